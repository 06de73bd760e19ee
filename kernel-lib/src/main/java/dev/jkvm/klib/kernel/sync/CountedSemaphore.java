package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;

/**
 * A CountingSemaphore followed by LockStats: the same count protocol (CountingSemaphore.post,
 * tryWait and count work on it), with every wait counted in the semaphore's memory: a wait that
 * found no unit is contended, and each failed look at the count is one spin. A separate layout,
 * so that the 8-byte semaphores embedded elsewhere keep their size. Several holders may count at
 * once (a semaphore may have more than one unit), so the counters use locked adds.
 *
 * Layout (SIZE bytes, 8-byte aligned): +0 CountingSemaphore, +STATS LockStats.
 */
public final class CountedSemaphore {
    private CountedSemaphore() {
    }

    public static final int STATS = 8;
    public static final int SIZE = STATS + LockStats.SIZE;

    public static void init(long semaphore, int count) {
        CountingSemaphore.init(semaphore, count);
        LockStats.init(semaphore + STATS);
    }

    public static void waitSpinning(long semaphore) {
        long spins = 0;
        while (!CountingSemaphore.tryWait(semaphore)) {
            while (Atomic.loadVolatile32(semaphore + CountingSemaphore.COUNT) <= 0) {
                Cpu.pause();
                spins++;
            }
            if (spins == 0) {
                spins = 1;
            }
        }
        LockStats.recordShared(semaphore + STATS, spins);
    }

    public static void post(long semaphore) {
        CountingSemaphore.post(semaphore);
    }

    public static long stats(long semaphore) {
        return semaphore + STATS;
    }
}
