package dev.jkvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.testsupport.KvmTest;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The same multiboot kernels, built with the GNU toolchain, must print the same serial bytes and
 * end with the same exit status under our VMM and under QEMU's microvm, both on KVM and on TCG
 * (QEMU's own software x86, an implementation independent of KVM). Our VMM runs them on KVM and
 * on its emulated CPU; without KVM the emulated CPU is compared with QEMU TCG alone.
 */
class QemuCrossCheckTest {
    private static final String KERNELS = """
            hello32, 1, 67
            longmode, 1, 7
            smp, 2, 5
            smp, 4, 9
            """;

    @ParameterizedTest(name = "{0} on {1} vCPUs under QEMU TCG")
    @CsvSource(textBlock = KERNELS)
    void statusAndSerialUnderQemuTcg(String kernelName, int cpus, int expectedStatus) throws Exception {
        Qemu.Result tcg = Qemu.run(TestKernels.build(kernelName), "tcg", cpus, "128M", 120);
        assertEquals(expectedStatus, tcg.status(), () -> "QEMU microvm on TCG: " + tcg.stderr());
        assertTrue(!tcg.serial().isEmpty(), "the kernel printed nothing under QEMU TCG");
    }

    @KvmTest
    @ParameterizedTest(name = "{0} on {1} vCPUs")
    @CsvSource(textBlock = KERNELS)
    void sameSerialAndStatusAsQemu(String kernelName, int cpus, int expectedStatus) throws Exception {
        Path kernel = TestKernels.build(kernelName);

        Jkvm.Result ours = Jkvm.run(kernel, cpus, 128L << 20, Duration.ofSeconds(60));
        Qemu.Result kvm = Qemu.run(kernel, "kvm", cpus, "128M", 120);
        Qemu.Result tcg = Qemu.run(kernel, "tcg", cpus, "128M", 120);

        assertEquals(VmOutcome.Kind.GUEST_EXIT, ours.outcome().kind(), () -> "our VMM: " + ours.outcome() + "\n" + ours.outcome().crashReport());
        assertEquals(expectedStatus, ours.outcome().exitStatus(), "our VMM's exit status");
        assertEquals(expectedStatus, kvm.status(), () -> "QEMU microvm on KVM: " + kvm.stderr());
        assertEquals(expectedStatus, tcg.status(), () -> "QEMU microvm on TCG: " + tcg.stderr());
        assertTrue(!ours.serial().isEmpty(), "the kernel printed nothing");
        assertEquals(kvm.serial(), ours.serial(), "serial output differs from QEMU on KVM");
        assertEquals(tcg.serial(), ours.serial(), "serial output differs from QEMU TCG");
    }

    /** Our emulated CPU against QEMU TCG, two independent software x86s: same status, same serial bytes. */
    @ParameterizedTest(name = "{0} on {1} vCPUs, emulated CPU vs QEMU TCG")
    @CsvSource(textBlock = KERNELS)
    void emulatedCpuPrintsWhatQemuTcgPrints(String kernelName, int cpus, int expectedStatus) throws Exception {
        Path kernel = TestKernels.build(kernelName);
        Jkvm.Result ours = Jkvm.run(Accelerator.EMULATED, kernel, cpus, 128L << 20, Duration.ofSeconds(120));
        Qemu.Result tcg = Qemu.run(kernel, "tcg", cpus, "128M", 120);
        assertEquals("emulated", ours.stats().accelerator());
        assertEquals(VmOutcome.Kind.GUEST_EXIT, ours.outcome().kind(), () -> "emulated: " + ours.outcome() + "\n" + ours.outcome().crashReport());
        assertEquals(expectedStatus, ours.outcome().exitStatus(), "our emulated CPU's exit status");
        assertEquals(expectedStatus, tcg.status(), () -> "QEMU microvm on TCG: " + tcg.stderr());
        assertTrue(!ours.serial().isEmpty(), "the kernel printed nothing");
        assertEquals(tcg.serial(), ours.serial(), "serial output differs from QEMU TCG");
    }

    /** images/hello on the emulated CPU prints exactly what it prints under QEMU TCG. */
    @org.junit.jupiter.api.Test
    void helloImageOnTheEmulatedCpuMatchesQemuTcg() throws Exception {
        Path kernel = BuiltImage.HELLO.path();
        Jkvm.Result ours = Jkvm.run(Accelerator.EMULATED, kernel, 1, 64L << 20, Duration.ofSeconds(60));
        Qemu.Result tcg = Qemu.run(kernel, "tcg", 1, "64M", 120);
        assertEquals(1, ours.outcome().exitStatus(), ours.outcome()::toString);
        assertEquals(1, tcg.status(), tcg::stderr);
        assertTrue(ours.serial().startsWith("Hello from jkvm\n"), ours.serial());
        assertEquals(tcg.serial(), ours.serial());
    }

    @org.junit.jupiter.api.Test
    void helloImageFromKernelLibUnderQemuTcg() throws Exception {
        Qemu.Result tcg = Qemu.run(BuiltImage.HELLO.path(), "tcg", 1, "64M", 120);
        assertEquals(1, tcg.status(), tcg::stderr);
        assertTrue(tcg.serial().startsWith("Hello from jkvm\n"), tcg.serial());
    }

    /** images/hello: compiled Java printing over COM1, identical on our VMM, QEMU KVM and QEMU TCG. */
    @KvmTest
    @org.junit.jupiter.api.Test
    void helloImageFromKernelLibBootsIdenticallyEverywhere() throws Exception {
        Path kernel = BuiltImage.HELLO.path();
        Jkvm.Result ours = Jkvm.run(kernel, 1, 64L << 20, Duration.ofSeconds(60));
        Qemu.Result kvm = Qemu.run(kernel, "kvm", 1, "64M", 120);
        Qemu.Result tcg = Qemu.run(kernel, "tcg", 1, "64M", 120);
        assertEquals(VmOutcome.Kind.GUEST_EXIT, ours.outcome().kind(), ours.outcome()::toString);
        assertEquals(1, ours.outcome().exitStatus());
        assertEquals(1, kvm.status(), kvm::stderr);
        assertEquals(1, tcg.status(), tcg::stderr);
        assertTrue(ours.serial().startsWith("Hello from jkvm\n"), ours.serial());
        assertEquals(kvm.serial(), ours.serial());
        assertEquals(tcg.serial(), ours.serial());
    }
}
