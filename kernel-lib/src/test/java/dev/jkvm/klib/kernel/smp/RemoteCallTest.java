package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bounded remote calls on simulated CPUs (host threads; the TSC stand-in counts nanoseconds). */
class RemoteCallTest {
    private static final int CPU_COUNT = 4;
    private static final int RECORD = 1;
    private static final int BLOCK = 2;
    private static final long SECOND = 1_000_000_000L;

    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicLong lastArgument = new AtomicLong();
    private CountDownLatch unblock;

    @BeforeEach
    void bindRegistry() {
        unblock = new CountDownLatch(1);
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            if (args[0] == BLOCK) {
                try {
                    unblock.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            lastArgument.set(args[1]);
            runs.incrementAndGet();
            return 0;
        });
    }

    @Test
    void aRespondingCpuRunsTheFunctionAndTheCallReturnsOk() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1, 2, 3);
            int[] result = new int[1];
            smp.run(new int[] {0, 2}, cpu -> {
                if (cpu == 0) {
                    result[0] = RemoteCall.call(smp.calls, online, 0, 2, RECORD, 0xABCDL, 10 * SECOND);
                }
            });
            assertEquals(RemoteCall.OK, result[0]);
            assertEquals(1, runs.get());
            assertEquals(0xABCDL, lastArgument.get());
            assertEquals(0, RemoteCall.remaining(smp.calls, 0));
        }
    }

    @Test
    void aCpuOutsideTheOnlineMaskIsReportedOfflineWithoutAnIpi() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1);
            assertEquals(RemoteCall.OFFLINE, RemoteCall.call(smp.calls, online, 0, 3, RECORD, 1, SECOND));
            assertEquals(RemoteCall.OFFLINE, RemoteCall.call(smp.calls, online, 0, CPU_COUNT, RECORD, 1, SECOND));
            assertEquals(RemoteCall.OFFLINE, RemoteCall.call(smp.calls, online, 0, -1, RECORD, 1, SECOND));
            assertEquals(0, smp.ipisSent.get());
            assertEquals(0, runs.get());
        }
    }

    /** Online but never taking interrupts: the request is withdrawn and never runs afterwards. */
    @Test
    void aSilentCpuTimesOutAndTheWithdrawnRequestNeverRuns() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1, 2, 3);
            int[] result = new int[1];
            smp.run(new int[] {0}, cpu -> result[0] = RemoteCall.call(smp.calls, online, 0, 1, RECORD, 7, SECOND / 100));
            assertEquals(RemoteCall.TIMEOUT, result[0]);
            assertEquals(1, smp.ipisSent.get());
            assertEquals(0, RemoteCall.remaining(smp.calls, 0));
            // CPU 1 now takes its interrupt: nothing is left for it to run.
            smp.run(new int[] {1}, cpu -> smp.poll(cpu));
            assertEquals(0, runs.get());
            // The slot is reusable: the next call to a live CPU completes.
            smp.run(new int[] {0, 1}, cpu -> {
                if (cpu == 0) {
                    result[0] = RemoteCall.call(smp.calls, online, 0, 1, RECORD, 8, 10 * SECOND);
                }
            });
            assertEquals(RemoteCall.OK, result[0]);
            assertEquals(1, runs.get());
            assertEquals(8, lastArgument.get());
        }
    }

    @Test
    void aCpuStuckInsideTheFunctionIsReportedLate() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1, 2, 3);
            int[] result = new int[1];
            smp.run(new int[] {0, 1}, cpu -> {
                if (cpu == 0) {
                    result[0] = RemoteCall.call(smp.calls, online, 0, 1, BLOCK, 9, SECOND / 20);
                    assertEquals(1, RemoteCall.remaining(smp.calls, 0));
                    unblock.countDown();
                    while (RemoteCall.remaining(smp.calls, 0) != 0) {
                        Thread.onSpinWait();
                    }
                }
            });
            assertEquals(RemoteCall.LATE, result[0]);
            assertEquals(1, runs.get());
        }
    }

    @Test
    void aCallToItselfRunsDirectly() {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 2);
            assertEquals(RemoteCall.OK, RemoteCall.call(smp.calls, online, 2, 2, RECORD, 5, SECOND));
            assertEquals(1, runs.get());
            assertTrue(smp.ipisSent.get() == 0);
        }
    }
}
