package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/**
 * A reader-writer spinlock with writer priority: any number of readers share it, a writer holds
 * it alone, and once a writer announces itself no new reader gets in, so a steady stream of
 * readers cannot starve writers (readers can be starved by a steady stream of writers instead,
 * the usual trade for write-mostly-rare data such as tables read on every interrupt).
 *
 * Layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0  int  state           WRITER (-1): a writer holds it; n >= 0: n readers hold it
 *   +4  int  writersWaiting  writers that announced themselves and do not hold it yet
 *   +8  int  writerCpu       the writer's CPU id, maintained only by CheckedRwLock
 *   +12 int  reserved
 *   +16 long readerMask      CPUs 0..63 holding it for reading, maintained only by CheckedRwLock
 *   +24 LockStats            read acquisitions
 *   +48 LockStats            write acquisitions
 * </pre>
 * Ordering (Intel SDM Vol. 3A 9.2.2): acquiring is a locked CMPXCHG on state, a full barrier;
 * the reader's release is a locked add, the writer's a plain store after the critical section,
 * which x86-TSO keeps after the section's loads and stores.
 */
public final class RwLock {
    private RwLock() {
    }

    public static final int STATE = 0;
    public static final int WRITERS_WAITING = 4;
    public static final int WRITER_CPU = 8;
    public static final int READER_MASK = 16;
    public static final int READ_STATS = 24;
    public static final int WRITE_STATS = READ_STATS + LockStats.SIZE;
    public static final int SIZE = WRITE_STATS + LockStats.SIZE;

    public static final int WRITER = -1;
    public static final int NO_OWNER = -1;

    public static void init(long lock) {
        Memory.store32(lock + STATE, 0);
        Memory.store32(lock + WRITERS_WAITING, 0);
        Memory.store32(lock + WRITER_CPU, NO_OWNER);
        Memory.store32(lock + WRITER_CPU + 4, 0);
        Memory.store64(lock + READER_MASK, 0L);
        LockStats.init(lock + READ_STATS);
        LockStats.init(lock + WRITE_STATS);
    }

    public static void readLock(long lock) {
        long spins = 0;
        while (true) {
            int state = Atomic.loadVolatile32(lock + STATE);
            if (state >= 0 && Atomic.loadVolatile32(lock + WRITERS_WAITING) == 0
                    && Atomic.compareAndSet32Acquire(lock + STATE, state, state + 1)) {
                break;
            }
            Cpu.pause();
            spins++;
        }
        LockStats.recordShared(lock + READ_STATS, spins);
    }

    public static void readUnlock(long lock) {
        Atomic.fetchAdd32Release(lock + STATE, -1);
    }

    public static void writeLock(long lock) {
        Atomic.fetchAdd32(lock + WRITERS_WAITING, 1);
        long spins = 0;
        while (!Atomic.compareAndSet32Acquire(lock + STATE, 0, WRITER)) {
            Cpu.pause();
            spins++;
        }
        Atomic.fetchAdd32(lock + WRITERS_WAITING, -1);
        LockStats.recordExclusive(lock + WRITE_STATS, spins);
    }

    public static void writeUnlock(long lock) {
        Fence.release();
        Memory.store32(lock + STATE, 0);
    }

    /** WRITER, or the number of readers holding it (a snapshot). */
    public static int state(long lock) {
        return Atomic.loadVolatile32(lock + STATE);
    }

    public static long readStats(long lock) {
        return lock + READ_STATS;
    }

    public static long writeStats(long lock) {
        return lock + WRITE_STATS;
    }
}
