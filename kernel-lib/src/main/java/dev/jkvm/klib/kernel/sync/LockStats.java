package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Contention statistics kept inside a lock's own memory: how often it was taken, how many of
 * those acquisitions had to wait, and how many spin iterations the waiting took in total. The
 * counters let a kernel see which locks are hot without a profiler.
 *
 * Layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0  long acquisitions
 *   +8  long contended     acquisitions that found the lock taken
 *   +16 long spins         PAUSE iterations spent waiting, summed over all acquisitions
 * </pre>
 * An exclusive lock's holder updates them with plain read-modify-writes (recordExclusive): the
 * lock itself orders one holder's update before the next holder's. Shared holders (readers)
 * update them concurrently and use locked adds (recordShared).
 */
public final class LockStats {
    private LockStats() {
    }

    public static final int ACQUISITIONS = 0;
    public static final int CONTENDED = 8;
    public static final int SPINS = 16;
    public static final int SIZE = 24;

    public static void init(long stats) {
        Memory.store64(stats + ACQUISITIONS, 0L);
        Memory.store64(stats + CONTENDED, 0L);
        Memory.store64(stats + SPINS, 0L);
    }

    /** For the holder of an exclusive lock, which no other CPU updates the counters while it holds. */
    public static void recordExclusive(long stats, long spins) {
        Memory.store64(stats + ACQUISITIONS, Memory.load64(stats + ACQUISITIONS) + 1);
        if (spins != 0) {
            Memory.store64(stats + CONTENDED, Memory.load64(stats + CONTENDED) + 1);
            Memory.store64(stats + SPINS, Memory.load64(stats + SPINS) + spins);
        }
    }

    /** For holders that may update the counters at the same time as others (readers). */
    public static void recordShared(long stats, long spins) {
        Atomic.fetchAdd64(stats + ACQUISITIONS, 1L);
        if (spins != 0) {
            Atomic.fetchAdd64(stats + CONTENDED, 1L);
            Atomic.fetchAdd64(stats + SPINS, spins);
        }
    }

    public static long acquisitions(long stats) {
        return Atomic.loadVolatile64(stats + ACQUISITIONS);
    }

    public static long contended(long stats) {
        return Atomic.loadVolatile64(stats + CONTENDED);
    }

    public static long spins(long stats) {
        return Atomic.loadVolatile64(stats + SPINS);
    }
}
