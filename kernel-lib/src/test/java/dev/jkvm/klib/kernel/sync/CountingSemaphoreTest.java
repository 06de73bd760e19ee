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

class CountingSemaphoreTest {
    private Arena arena;
    private long semaphore;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        semaphore = arena.allocate(64, 64).address();
    }

    @Test
    void tryWaitTakesOnlyWhatWasPosted() {
        CountingSemaphore.init(semaphore, 2);
        assertTrue(CountingSemaphore.tryWait(semaphore));
        assertTrue(CountingSemaphore.tryWait(semaphore));
        assertFalse(CountingSemaphore.tryWait(semaphore));
        assertEquals(0, CountingSemaphore.count(semaphore));
        CountingSemaphore.post(semaphore);
        assertEquals(1, CountingSemaphore.count(semaphore));
        assertTrue(CountingSemaphore.tryWait(semaphore));
        assertFalse(CountingSemaphore.tryWait(semaphore));
    }

    @Test
    void neverAdmitsMoreHoldersThanUnitsAndConservesTheCount() throws Exception {
        int units = 3;
        CountingSemaphore.init(semaphore, units);
        long inside = arena.allocate(64, 64).address();
        Atomic.storeVolatile32(inside, 0);
        AtomicInteger mostInside = new AtomicInteger();
        HostCpus.run(6, cpu -> {
            for (int i = 0; i < 2_000; i++) {
                if (i % 2 == 0) {
                    CountingSemaphore.waitSpinning(semaphore);
                } else if (!CountingSemaphore.tryWait(semaphore)) {
                    continue;
                }
                int now = Atomic.fetchAdd32(inside, 1) + 1;
                mostInside.accumulateAndGet(now, Math::max);
                Atomic.fetchAdd32(inside, -1);
                CountingSemaphore.post(semaphore);
            }
        });
        assertTrue(mostInside.get() <= units, "holders at once: " + mostInside.get());
        assertEquals(units, CountingSemaphore.count(semaphore));
        assertEquals(0, Atomic.loadVolatile32(semaphore + CountingSemaphore.WAITERS));
    }

    @Test
    void everyPostedUnitIsConsumedExactlyOnce() throws Exception {
        CountingSemaphore.init(semaphore, 0);
        int producers = 3;
        int consumers = 3;
        int perThread = 3_000;
        AtomicLong consumed = new AtomicLong();
        HostCpus.run(producers + consumers, cpu -> {
            for (int i = 0; i < perThread; i++) {
                if (cpu < producers) {
                    CountingSemaphore.post(semaphore);
                } else {
                    CountingSemaphore.waitSpinning(semaphore);
                    consumed.incrementAndGet();
                }
            }
        });
        assertEquals((long) consumers * perThread, consumed.get());
        assertEquals(producers * perThread - consumers * perThread, CountingSemaphore.count(semaphore));
    }
}
