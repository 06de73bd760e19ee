package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/**
 * A sequence lock: writers serialize on an embedded TicketSpinLock and make the sequence odd
 * while they write; readers never block writers, they read the data between two reads of an
 * even, unchanged sequence and retry otherwise. For small, often-read data (time keeping).
 *
 * Reader:  do { s = readBegin(l); ...read the data... } while (readRetry(l, s));
 * Writer:  writeLock(l); ...write the data...; writeUnlock(l);
 *
 * Layout (SIZE bytes, 4-byte aligned):
 * <pre>
 *   +0  int sequence   odd while a writer is inside
 *   +4  int reserved
 *   +8  TicketSpinLock (TicketSpinLock.SIZE bytes) serializing writers
 * </pre>
 * Ordering (Intel SDM Vol. 3A 9.2.2): loads are not reordered with other loads and stores not
 * with other stores, so a reader that saw the same even sequence before and after its data loads
 * read no store of a writer; the fences compile to nothing on x86 and keep the host JVM honest.
 */
public final class SeqLock {
    private SeqLock() {
    }

    public static final int SEQUENCE = 0;
    public static final int WRITER_LOCK = 8;
    public static final int SIZE = 8 + TicketSpinLock.SIZE;

    public static void init(long seqLock) {
        Memory.store32(seqLock + SEQUENCE, 0);
        Memory.store32(seqLock + 4, 0);
        TicketSpinLock.init(seqLock + WRITER_LOCK);
    }

    /** Waits out a writer in progress and returns the (even) sequence to check in readRetry. */
    public static int readBegin(long seqLock) {
        int sequence = Atomic.loadVolatile32(seqLock + SEQUENCE);
        while ((sequence & 1) != 0) {
            Cpu.pause();
            sequence = Atomic.loadVolatile32(seqLock + SEQUENCE);
        }
        return sequence;
    }

    /** Whether a writer interfered since readBegin returned start: then the data read is torn. */
    public static boolean readRetry(long seqLock, int start) {
        Fence.acquire();
        return Atomic.loadVolatile32(seqLock + SEQUENCE) != start;
    }

    public static void writeLock(long seqLock) {
        TicketSpinLock.lock(seqLock + WRITER_LOCK);
        Atomic.storeVolatile32(seqLock + SEQUENCE, Memory.load32(seqLock + SEQUENCE) + 1);
        Fence.release();
    }

    public static void writeUnlock(long seqLock) {
        Fence.release();
        Atomic.storeVolatile32(seqLock + SEQUENCE, Memory.load32(seqLock + SEQUENCE) + 1);
        TicketSpinLock.unlock(seqLock + WRITER_LOCK);
    }
}
