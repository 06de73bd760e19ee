package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;
import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.vmm.api.CpuFeature;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MissingHardwareOnQemuTest's CPU cases on our VMM, on KVM and on the emulated CPU: a VM built
 * without a CPU feature (its CPUID bit cleared, CpuFeature) makes the kernel name it on one line
 * and stop cleanly (isa-debug-exit 0x11, status 35) before using it; without NX it runs without
 * it. And QEMU's pit=off case: a VM built without the 8254 PIT (VirtualMachine.Builder.withoutPit:
 * no KVM_CREATE_PIT2 on KVM, no PIT wired on the emulated CPU) makes the kernel say its timer
 * calibration is out of range and stop the same way.
 */
class MissingHardwareOnJkvmTest {
    /** Only a hang guard: ring 0 is emulated on this host's KVM and by the emulated CPU. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(180);

    private record Run(VmOutcome outcome, String serial) {}

    private static Run boot(Accelerator accel, CpuFeature missing, String cmdline) throws Exception {
        return boot(GuestAccelerators.builder(accel).withoutCpuFeature(missing), cmdline);
    }

    private static Run boot(VirtualMachine.Builder builder, String cmdline) throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (RunningVm vm = builder.cpus(2).memory(128L << 20)
                .kernel(BuiltImage.SMP_KERNEL.bytes()).console(serial).timeout(HANG_LIMIT).cmdline(cmdline)
                .build().start()) {
            VmOutcome outcome = vm.await();
            return new Run(outcome, serial.toString(StandardCharsets.ISO_8859_1));
        }
    }

    static Stream<Arguments> missing() {
        return GuestAccelerators.all().flatMap(a -> Stream.of(
                Arguments.of(a, CpuFeature.LOCAL_APIC, "", "cpu: no local APIC (CPUID 1 EDX bit 9)"),
                Arguments.of(a, CpuFeature.SYSCALL, "", "cpu: no SYSCALL/SYSRET (CPUID 0x80000001 EDX bit 11)"),
                Arguments.of(a, CpuFeature.NX, "test=xdata", "cpu: no NX (CPUID 0x80000001 EDX bit 20)")));
    }

    @ParameterizedTest(name = "{0}, without {1}")
    @MethodSource("missing")
    void missingHardwareIsNamedAndTheRunStops(Accelerator accel, CpuFeature missing, String cmdline, String line)
            throws Exception {
        Run run = boot(accel, missing, cmdline);
        assertEquals(VmOutcome.Kind.GUEST_EXIT, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        assertEquals(35, run.outcome.exitStatus(), () -> run.outcome + "\n" + run.serial);
        assertTrue(run.serial.contains("\n" + line), run.serial);
        assertTrue(run.serial.endsWith("; stopping\nresult: FAIL\n"), run.serial);
        assertFalse(run.serial.contains("*** exception"), run.serial);
    }

    /** As MissingHardwareOnQemuTest's "pc,pit=off" and "microvm,pit=off" cases. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void withoutPitTheTimerIsNamedAndTheRunStops(Accelerator accel) throws Exception {
        Run run = boot(GuestAccelerators.builder(accel).withoutPit(), "");
        assertEquals(VmOutcome.Kind.GUEST_EXIT, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        assertEquals(35, run.outcome.exitStatus(), () -> run.outcome + "\n" + run.serial);
        assertTrue(run.serial.contains("\ntimer: calibration against the 8254 PIT is out of range"), run.serial);
        assertTrue(run.serial.endsWith("; stopping\nresult: FAIL\n"), run.serial);
        assertFalse(run.serial.contains("*** exception"), run.serial);
    }

    /** Without NX the kernel maps without it, says so on its paging line, and runs (KVM would refuse EFER.NXE with #GP). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void withoutNxTheKernelRunsWithoutIt(Accelerator accel) throws Exception {
        Run run = boot(accel, CpuFeature.NX, "test=boot");
        assertEquals(VmOutcome.Kind.POWER_OFF, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        String paging = run.serial.lines().filter(l -> l.startsWith("paging: ")).findFirst().orElseThrow();
        assertTrue(paging.contains("; protections:") && !paging.contains(" nx"), run.serial);
    }
}
