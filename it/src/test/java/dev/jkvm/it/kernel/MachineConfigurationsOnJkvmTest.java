package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;
import dev.jkvm.it.GuestAccelerators;
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
 * The kernel's machine checks on our VMM, once per accelerator (GuestAccelerators): RAM sizes that
 * move RAM above 4 GiB, the fw_cfg CPU count agreeing with the MADT, expect-cpus=, more than 255
 * vCPUs, and a command-line error failing the run.
 */
class MachineConfigurationsOnJkvmTest {
    /** Only a hang guard: ring 0 is emulated on this host's KVM. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(180);

    private record Run(VmOutcome outcome, String serial) {}

    private static Run boot(Accelerator accel, int cpus, long memory, String cmdline) throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine vm = GuestAccelerators.builder(accel).cpus(cpus).memory(memory).kernel(BuiltImage.SMP_KERNEL.bytes())
                .console(serial).timeout(HANG_LIMIT).cmdline(cmdline).build();
        try (RunningVm running = vm.start()) {
            VmOutcome outcome = running.await();
            return new Run(outcome, serial.toString(StandardCharsets.ISO_8859_1));
        }
    }

    static Stream<Arguments> ramSizes() {
        return GuestAccelerators.crossedWith(2048, 3584, 8192);
    }

    @ParameterizedTest(name = "{0}, {1} MiB")
    @MethodSource("ramSizes")
    void everyCpuIsFoundWithRamAboveTheBootMap(Accelerator accel, int mebibytes) throws Exception {
        Run run = boot(accel, 2, (long) mebibytes << 20, "test=boot expect-cpus=2");
        assertEquals(VmOutcome.Kind.POWER_OFF, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        SmpBootReport report = new SmpBootReport(run.serial);
        report.line("fw_cfg: 2 cpus, as the MADT says");
        report.assertAllCpusPassed(2);
        assertTrue(run.serial.contains("\nmemory: " + (mebibytes - 1) + " MiB of RAM")
                || run.serial.contains("\nmemory: " + mebibytes + " MiB of RAM"), run.serial);
    }

    /**
     * Beyond 255 vCPUs: APIC IDs 255 and up exist only as x2APIC IDs (MADT x2APIC entries, KVM's
     * 32-bit ID API). Every CPU comes online, passes the IPI checks and enters the scheduler, and the
     * first task runs. On KVM this stalled for more than 12 minutes as the scheduler started (also at
     * 255 and, for 51 s, at 128 vCPUs): every idle CPU ticked 100 times a second, each tick scanning
     * every run queue, on a host whose ring 0 runs at about 1 MIPS; idle CPUs now stop their tick
     * (proc.IdleTick). About 10 s on the emulated CPU, 30 s on this host's KVM.
     */
    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void moreThan255CpusBootAndSchedule(Accelerator accel) throws Exception {
        int cpus = 260;
        Run run = boot(accel, cpus, 256L << 20, "test=boot expect-cpus=" + cpus);
        assertEquals(VmOutcome.Kind.POWER_OFF, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        SmpBootReport report = new SmpBootReport(run.serial);
        report.line("fw_cfg: " + cpus + " cpus, as the MADT says");
        report.line("boot only: the scheduler runs on every cpu");
        report.assertAllCpusPassed(cpus);
        assertTrue(run.serial.contains(" 254 255 256 257 258 259\n"), run.serial);
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void expectCpusAndCommandLineErrorsFailTheRun(Accelerator accel) throws Exception {
        Run wrongCount = boot(accel, 2, 256L << 20, "test=boot expect-cpus=3");
        assertEquals(VmOutcome.Kind.GUEST_EXIT, wrongCount.outcome.kind(), wrongCount.serial);
        assertTrue(wrongCount.serial.contains("expect-cpus: 3 cpus expected online, 2 are: FAIL"), wrongCount.serial);
        Run typo = boot(accel, 1, 64L << 20, "test=bootx");
        assertEquals(VmOutcome.Kind.GUEST_EXIT, typo.outcome.kind(), typo.serial);
        assertTrue(typo.serial.contains("cmdline: unknown switch in \"test=bootx\"; accepted: "), typo.serial);
    }
}
