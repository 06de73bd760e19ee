package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.boot.SymbolTable;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * pause() right after start(): some vCPU threads are still starting while the BSP already counts.
 * The pause must wait for the counting BSP, not be answered by an AP that parks first (it was
 * kicked before its thread ran), so the counter stays frozen until resume().
 */
class PauseGuestTest {
    static final String COUNT = """
            _start:
                cli
            1:  incl counter
                jmp 1b
            .balign 4
            counter: .long 0
            """;
    static final int ROUNDS = 20;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void pauseRightAfterStartFreezesTheGuest(Accelerator accel) throws Exception {
        byte[] kernel = GnuToolchain.multibootElf(COUNT);
        long counter = SymbolTable.of(kernel).address("counter").orElseThrow();
        for (int round = 0; round < ROUNDS; round++) {
            try (RunningVm run = GuestAccelerators.builder(accel).cpus(4).memory(8 << 20).kernel(kernel)
                    .timeout(Duration.ofSeconds(60)).build().start()) {
                run.pause();
                int frozen = run.machine().memory().read32(counter);
                Thread.sleep(20);
                assertEquals(frozen, run.machine().memory().read32(counter), "round " + round + ": the guest ran while paused");
                run.resume();
                run.stop();
            }
        }
    }
}
