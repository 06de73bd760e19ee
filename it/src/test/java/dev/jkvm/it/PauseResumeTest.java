package dev.jkvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.boot.SymbolTable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Timeout;

/** pause() freezes every vCPU (running or waiting for SIPI) and resume() lets the guest go on. */
class PauseResumeTest {
    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a pause that never completes hangs instead of failing
    void pausedGuestMakesNoProgressUntilResumed(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("count");
        long counter = SymbolTable.of(Files.readAllBytes(kernel)).address("counter").orElseThrow();
        VirtualMachine machine = GuestAccelerators.builder(accel).cpus(2).memory(16L << 20).kernel(kernel)
                .timeout(Duration.ofSeconds(100)).build();
        try (RunningVm run = machine.start()) {
            waitUntilAbove(run, counter, 0);

            run.pause();
            int frozen = run.machine().memory().read32(counter);
            Thread.sleep(300);
            assertEquals(frozen, run.machine().memory().read32(counter), "the guest ran while paused");
            assertFalse(run.isDone());

            run.resume();
            waitUntilAbove(run, counter, frozen);

            run.stop();
            assertEquals(VmOutcome.Kind.STOPPED, run.await().kind());
        }
    }

    private static void waitUntilAbove(RunningVm run, long counter, int floor) throws InterruptedException {
        while (Integer.compareUnsigned(run.machine().memory().read32(counter), floor) <= 0) {
            assertTrue(!run.isDone(), "the guest ended early");
            Thread.sleep(5);
        }
    }
}
