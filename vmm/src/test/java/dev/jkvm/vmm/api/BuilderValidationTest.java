package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.boot.MultibootException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration mistakes are refused before any KVM resource exists, with one clear line. */
class BuilderValidationTest {
    @Test
    void anImageWithoutAMultibootHeaderIsRefusedAtBuild() {
        byte[] notAKernel = new byte[8192];
        MultibootException e = assertThrows(MultibootException.class,
                () -> VirtualMachine.builder().kernel(notAKernel).build());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void missingKernelAndTooLittleMemoryAndNoCpusAreRefused() {
        IllegalArgumentException noKernel = assertThrows(IllegalArgumentException.class, () -> VirtualMachine.builder().build());
        assertTrue(noKernel.getMessage().contains("kernel"), noKernel.getMessage());
        IllegalArgumentException memory = assertThrows(IllegalArgumentException.class, () -> VirtualMachine.builder().memory(4096));
        assertTrue(memory.getMessage().contains("at least 2 MiB"), memory.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VirtualMachine.builder().cpus(0));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void moreVcpusThanTheAcceleratorAllowsIsRefusedAtStartWithoutLeaking(Accelerator accel) throws Exception {
        VirtualMachine vm = GuestAccelerators.builder(accel).cpus(100_000).memory(8 << 20)
                .kernel(GnuToolchain.multibootElf(SerialAndDebugExitTest.HELLO)).build();
        LifecycleLeakTest.Usage before = LifecycleLeakTest.usage();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, vm::start);
        assertTrue(e.getMessage().contains("at most"), e.getMessage());
        LifecycleLeakTest.Usage after = LifecycleLeakTest.usage();
        assertTrue(after.fds() <= before.fds(), "fds leaked: " + before + " / " + after);
        assertTrue(after.threads() <= before.threads() + LifecycleLeakTest.THREADS_SLACK, "threads leaked: " + before + " / " + after);
        // The emulated machine starts its timer thread before the vCPU count is checked: it must be gone.
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("jkvm-platform-timer")),
                "the emulated machine's timer thread outlived the refused start");
    }

    /** The placement half of the verdict too, at build(), from the memory size alone: no VM is created. */
    @Test
    void aKernelThatDoesNotFitTheMemoryIsRefusedAtBuild() {
        byte[] bigBss = GnuToolchain.multibootElf("""
                    .text
                    .globl _start
                _start:
                    hlt
                    .bss
                    .skip 100 << 20
                """);
        MultibootException e = assertThrows(MultibootException.class,
                () -> VirtualMachine.builder().memory(8 << 20).kernel(bigBss).build());
        assertTrue(e.getMessage().contains("outside guest RAM (8 MiB)") && e.getMessage().contains("use --memory"), e.getMessage());
        VirtualMachine.builder().memory(128 << 20).kernel(bigBss).build();
    }

    @Test
    void aKernelPathThatIsNotARegularFileIsRefused() {
        MultibootException e = assertThrows(MultibootException.class,
                () -> VirtualMachine.builder().kernel(java.nio.file.Path.of("/dev/zero")));
        assertTrue(e.getMessage().contains("/dev/zero is a character device"), e.getMessage());
    }
}
