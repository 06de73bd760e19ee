package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Kernel-subset loops over the sync primitives, compiled and run natively by
 * CompiledSyncNativeTest so that a whole contended loop runs as machine code. Each returns the
 * number of violations it observed.
 */
final class NativeSyncWorkload {
    private NativeSyncWorkload() {
    }

    /** Plain (non-atomic) increments of counter under the lock; returns times another CPU was inside. */
    static int lockedIncrements(long lock, long counter, long occupancy, int times) {
        int violations = 0;
        for (int i = 0; i < times; i++) {
            TicketSpinLock.lock(lock);
            if (Atomic.fetchAdd32(occupancy, 1) != 0) {
                violations++;
            }
            Memory.store64(counter, Memory.load64(counter) + 1);
            Atomic.fetchAdd32(occupancy, -1);
            TicketSpinLock.unlock(lock);
        }
        return violations;
    }

    /** Rounds of write-progress, barrier, check-everyone's-progress, barrier. */
    static int barrierRounds(long barrier, long progress, int cpu, int cpus, int rounds) {
        int violations = 0;
        for (int round = 0; round < rounds; round++) {
            Atomic.storeVolatile32(progress + cpu * 64L, round);
            SenseBarrier.await(barrier);
            for (int other = 0; other < cpus; other++) {
                if (Atomic.loadVolatile32(progress + other * 64L) != round) {
                    violations++;
                }
            }
            SenseBarrier.await(barrier);
        }
        return violations;
    }

    /** Takes and returns units; counts moments with more holders than units. */
    static int semaphoreCycles(long semaphore, long inside, int units, int times) {
        int violations = 0;
        for (int i = 0; i < times; i++) {
            SpinSemaphore.waitSpinning(semaphore);
            if (Atomic.fetchAdd32(inside, 1) >= units) {
                violations++;
            }
            Atomic.fetchAdd32(inside, -1);
            SpinSemaphore.post(semaphore);
        }
        return violations;
    }

    /**
     * CPU 0 writes two words under the seqlock, the others read them until a read was not
     * interfered with; torn pairs accepted go to data + 16. Returns the retries this CPU made.
     */
    static long seqLockCycles(long seqLock, long data, int cpu, int times) {
        long retries = 0;
        for (int i = 0; i < times; i++) {
            if (cpu == 0) {
                SeqLock.writeLock(seqLock);
                Memory.store64(data, Memory.load64(data) + 1);
                Memory.store64(data + 8, Memory.load64(data + 8) + 1);
                SeqLock.writeUnlock(seqLock);
            } else {
                int start = SeqLock.readBegin(seqLock);
                long first = Memory.load64(data);
                long second = Memory.load64(data + 8);
                while (SeqLock.readRetry(seqLock, start)) {
                    retries++;
                    start = SeqLock.readBegin(seqLock);
                    first = Memory.load64(data);
                    second = Memory.load64(data + 8);
                }
                if (first != second) {
                    Atomic.fetchAdd32(data + 16, 1);
                }
            }
        }
        return retries;
    }
}
