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
 * Layout (SIZE bytes, one cache line, 8-byte aligned):
 * <pre>
 *   +0  int  sequence      odd while a writer is inside
 *   +4  int  reserved
 *   +8  CountedTicketLock  serializing writers; its LockStats count the writers' contention
 *   +48 long readRetries   reads that saw a writer's interference and started over
 *   +56 long readSpins     PAUSE iterations readers spent waiting for a writer to finish
 * </pre>
 * Readers write to the lock only on their slow paths (a retry or a wait), which a writer's
 * stores caused anyway, so an uncontended read still only reads the sequence line.
 * Ordering (Intel SDM Vol. 3A 9.2.2): loads are not reordered with other loads and stores not
 * with other stores, so a reader that saw the same even sequence before and after its data loads
 * read no store of a writer; the fences compile to nothing on x86 and keep the host JVM honest.
 */
public final class SeqLock {
    private SeqLock() {
    }

    public static final int SEQUENCE = 0;
    public static final int WRITER_LOCK = 8;
    public static final int READ_RETRIES = WRITER_LOCK + CountedTicketLock.SIZE;
    public static final int READ_SPINS = READ_RETRIES + 8;
    public static final int SIZE = READ_SPINS + 8;

    public static void init(long seqLock) {
        Memory.store32(seqLock + SEQUENCE, 0);
        Memory.store32(seqLock + 4, 0);
        CountedTicketLock.init(seqLock + WRITER_LOCK);
        Memory.store64(seqLock + READ_RETRIES, 0L);
        Memory.store64(seqLock + READ_SPINS, 0L);
    }

    /** Waits out a writer in progress and returns the (even) sequence to check in readRetry. */
    public static int readBegin(long seqLock) {
        int sequence = Atomic.loadVolatile32(seqLock + SEQUENCE);
        if ((sequence & 1) == 0) {
            return sequence;
        }
        long spins = 0;
        do {
            Cpu.pause();
            spins++;
            sequence = Atomic.loadVolatile32(seqLock + SEQUENCE);
        } while ((sequence & 1) != 0);
        Atomic.fetchAdd64(seqLock + READ_SPINS, spins);
        return sequence;
    }

    /** Whether a writer interfered since readBegin returned start: then the data read is torn. */
    public static boolean readRetry(long seqLock, int start) {
        Fence.acquire();
        if (Atomic.loadVolatile32(seqLock + SEQUENCE) == start) {
            return false;
        }
        Atomic.fetchAdd64(seqLock + READ_RETRIES, 1L);
        return true;
    }

    public static void writeLock(long seqLock) {
        CountedTicketLock.lock(seqLock + WRITER_LOCK);
        Atomic.storeVolatile32(seqLock + SEQUENCE, Memory.load32(seqLock + SEQUENCE) + 1);
        Fence.release();
    }

    public static void writeUnlock(long seqLock) {
        Fence.release();
        Atomic.storeVolatile32(seqLock + SEQUENCE, Memory.load32(seqLock + SEQUENCE) + 1);
        TicketSpinLock.unlock(seqLock + WRITER_LOCK);
    }

    /** Writer acquisitions, the contended ones and their spin iterations. */
    public static long writerStats(long seqLock) {
        return seqLock + WRITER_LOCK + CountedTicketLock.STATS;
    }

    public static long readRetries(long seqLock) {
        return Atomic.loadVolatile64(seqLock + READ_RETRIES);
    }

    public static long readSpins(long seqLock) {
        return Atomic.loadVolatile64(seqLock + READ_SPINS);
    }
}
