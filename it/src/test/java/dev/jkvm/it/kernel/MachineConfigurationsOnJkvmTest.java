package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;
import dev.jkvm.testsupport.KvmTest;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernel's machine checks on our VMM (KVM): RAM sizes that move RAM above 4 GiB, the fw_cfg
 * CPU count agreeing with the MADT, expect-cpus=, and a command-line error failing the run.
 */
@KvmTest
class MachineConfigurationsOnJkvmTest {
    /** Only a hang guard: ring 0 is emulated on this host's KVM. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(180);

    private record Run(VmOutcome outcome, String serial) {}

    private static Run boot(int cpus, long memory, String cmdline) throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine vm = VirtualMachine.builder().cpus(cpus).memory(memory).kernel(BuiltImage.SMP_KERNEL.bytes())
                .console(serial).timeout(HANG_LIMIT).cmdline(cmdline).build();
        try (RunningVm running = vm.start()) {
            VmOutcome outcome = running.await();
            return new Run(outcome, serial.toString(StandardCharsets.ISO_8859_1));
        }
    }

    @ParameterizedTest(name = "{0} MiB")
    @ValueSource(longs = {2048, 3584, 8192})
    void everyCpuIsFoundWithRamAboveTheBootMap(long mebibytes) throws Exception {
        Run run = boot(2, mebibytes << 20, "test=boot expect-cpus=2");
        assertEquals(VmOutcome.Kind.POWER_OFF, run.outcome.kind(), () -> run.outcome + "\n" + run.serial);
        SmpBootReport report = new SmpBootReport(run.serial);
        report.line("fw_cfg: 2 cpus, as the MADT says");
        report.assertAllCpusPassed(2);
        assertTrue(run.serial.contains("\nmemory: " + (mebibytes - 1) + " MiB of RAM")
                || run.serial.contains("\nmemory: " + mebibytes + " MiB of RAM"), run.serial);
    }

    @Test
    void expectCpusAndCommandLineErrorsFailTheRun() throws Exception {
        Run wrongCount = boot(2, 256L << 20, "test=boot expect-cpus=3");
        assertEquals(VmOutcome.Kind.GUEST_EXIT, wrongCount.outcome.kind(), wrongCount.serial);
        assertTrue(wrongCount.serial.contains("expect-cpus: 3 cpus expected online, 2 are: FAIL"), wrongCount.serial);
        Run typo = boot(1, 64L << 20, "test=bootx");
        assertEquals(VmOutcome.Kind.GUEST_EXIT, typo.outcome.kind(), typo.serial);
        assertTrue(typo.serial.contains("cmdline: unknown switch in \"test=bootx\"; accepted: "), typo.serial);
    }
}
