package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;

/**
 * A SpinSemaphore followed by LockStats: the same count protocol (SpinSemaphore.post,
 * tryWait and count work on it), with every wait counted in the semaphore's memory: a wait that
 * found no unit is contended, and each failed look at the count is one spin. A separate layout,
 * so that the 8-byte semaphores embedded elsewhere keep their size. Several holders may count at
 * once (a semaphore may have more than one unit), so the counters use locked adds.
 *
 * Layout (SIZE bytes, 8-byte aligned): +0 SpinSemaphore, +STATS LockStats.
 */
public final class CountedSpinSemaphore {
    private CountedSpinSemaphore() {
    }

    public static final int STATS = 8;
    public static final int SIZE = STATS + LockStats.SIZE;

    public static void init(long semaphore, int count) {
        SpinSemaphore.init(semaphore, count);
        LockStats.init(semaphore + STATS);
    }

    public static void waitSpinning(long semaphore) {
        long spins = 0;
        while (!SpinSemaphore.tryWait(semaphore)) {
            while (Atomic.loadVolatile32(semaphore + SpinSemaphore.COUNT) <= 0) {
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
        SpinSemaphore.post(semaphore);
    }

    public static long stats(long semaphore) {
        return semaphore + STATS;
    }
}
