package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A vCPU stuck in the guest — spinning, or halted with interrupts off — is kicked out of
 * KVM_RUN (immediate_exit + signal) by the wall-clock limit and by stop().
 */
class StopAndTimeoutTest {
    static final String SPIN = """
            _start:
                jmp _start
            """;
    static final String HALT_FOREVER = """
            _start:
                cli
            1:  hlt
                jmp 1b
            """;

    /** Generous: the limits below are about the VM ending at all, not about speed. */
    static final Duration ENDS_WITHIN = Duration.ofSeconds(60);

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void spinningGuestEndsWithTimeout(Accelerator accel) throws Exception {
        try (RunningVm run = GuestAccelerators.builder(accel).memory(8 << 20).kernel(GnuToolchain.multibootElf(SPIN))
                .timeout(Duration.ofMillis(500)).build().start()) {
            VmOutcome outcome = run.await(ENDS_WITHIN);
            assertNotNull(outcome, "the timeout did not end a spinning guest");
            assertEquals(VmOutcome.Kind.TIMEOUT, outcome.kind());
            assertEquals(ExitStatus.TIMEOUT, outcome.exitStatus());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void haltedGuestEndsWithTimeout(Accelerator accel) throws Exception {
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(2).memory(8 << 20).kernel(GnuToolchain.multibootElf(HALT_FOREVER))
                .timeout(Duration.ofMillis(500)).build().start()) {
            VmOutcome outcome = run.await(ENDS_WITHIN);
            assertNotNull(outcome, "the timeout did not end a halted guest");
            assertEquals(VmOutcome.Kind.TIMEOUT, outcome.kind());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void stopEndsASpinningGuestAndCloseJoinsItsThreads(Accelerator accel) throws Exception {
        RunningVm run = GuestAccelerators.builder(accel).cpus(2).memory(8 << 20).kernel(GnuToolchain.multibootElf(SPIN))
                .build().start();
        try {
            assertNull(run.await(Duration.ofMillis(300)), "a spinning guest without a limit must still run");
            run.stop();
            VmOutcome outcome = run.await(ENDS_WITHIN);
            assertNotNull(outcome);
            assertEquals(VmOutcome.Kind.STOPPED, outcome.kind());
        } finally {
            run.close();
        }
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("vcpu-")),
                "vCPU threads must be joined by close()");
    }
}
