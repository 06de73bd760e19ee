package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpinSemaphoreTest {
    private Arena arena;
    private long semaphore;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        semaphore = arena.allocate(64, 64).address();
    }

    @Test
    void tryWaitTakesOnlyWhatWasPosted() {
        SpinSemaphore.init(semaphore, 2);
        assertTrue(SpinSemaphore.tryWait(semaphore));
        assertTrue(SpinSemaphore.tryWait(semaphore));
        assertFalse(SpinSemaphore.tryWait(semaphore));
        assertEquals(0, SpinSemaphore.count(semaphore));
        SpinSemaphore.post(semaphore);
        assertEquals(1, SpinSemaphore.count(semaphore));
        assertTrue(SpinSemaphore.tryWait(semaphore));
        assertFalse(SpinSemaphore.tryWait(semaphore));
    }

    @Test
    void neverAdmitsMoreHoldersThanUnitsAndConservesTheCount() throws Exception {
        int units = 3;
        SpinSemaphore.init(semaphore, units);
        long inside = arena.allocate(64, 64).address();
        Atomic.storeVolatile32(inside, 0);
        AtomicInteger mostInside = new AtomicInteger();
        HostCpus.run(6, cpu -> {
            for (int i = 0; i < 2_000; i++) {
                if (i % 2 == 0) {
                    SpinSemaphore.waitSpinning(semaphore);
                } else if (!SpinSemaphore.tryWait(semaphore)) {
                    continue;
                }
                int now = Atomic.fetchAdd32(inside, 1) + 1;
                mostInside.accumulateAndGet(now, Math::max);
                Atomic.fetchAdd32(inside, -1);
                SpinSemaphore.post(semaphore);
            }
        });
        assertTrue(mostInside.get() <= units, "holders at once: " + mostInside.get());
        assertEquals(units, SpinSemaphore.count(semaphore));
        assertEquals(0, Atomic.loadVolatile32(semaphore + SpinSemaphore.WAITERS));
    }

    @Test
    void everyPostedUnitIsConsumedExactlyOnce() throws Exception {
        SpinSemaphore.init(semaphore, 0);
        int producers = 3;
        int consumers = 3;
        int perThread = 3_000;
        AtomicLong consumed = new AtomicLong();
        HostCpus.run(producers + consumers, cpu -> {
            for (int i = 0; i < perThread; i++) {
                if (cpu < producers) {
                    SpinSemaphore.post(semaphore);
                } else {
                    SpinSemaphore.waitSpinning(semaphore);
                    consumed.incrementAndGet();
                }
            }
        });
        assertEquals((long) consumers * perThread, consumed.get());
        assertEquals(producers * perThread - consumers * perThread, SpinSemaphore.count(semaphore));
    }
}
