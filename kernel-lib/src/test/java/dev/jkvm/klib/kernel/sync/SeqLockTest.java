package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeqLockTest {
    private Arena arena;
    private long seqLock;
    private long data;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        seqLock = arena.allocate(SeqLock.SIZE, 64).address();
        data = arena.allocate(64, 64).address();
        SeqLock.init(seqLock);
        Memory.store64(data, 0);
        Memory.store64(data + 8, 0);
        Memory.store64(data + 16, ~0L);
    }

    @Test
    void readersNeverAcceptATornSnapshot() throws Exception {
        int writers = 2;
        int writesEach = 5_000;
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong acceptedReads = new AtomicLong();
        AtomicLong lastSeen = new AtomicLong();
        AtomicLong retriesSeen = new AtomicLong();
        java.util.concurrent.atomic.AtomicInteger writersLeft = new java.util.concurrent.atomic.AtomicInteger(writers);
        HostCpus.run(writers + 2, cpu -> {
            if (cpu < writers) {
                for (int i = 0; i < writesEach; i++) {
                    SeqLock.writeLock(seqLock);
                    long next = Memory.load64(data) + 1;
                    // Three words that only agree when written completely.
                    Memory.store64(data, next);
                    Memory.store64(data + 8, next * 3);
                    Memory.store64(data + 16, ~next);
                    SeqLock.writeUnlock(seqLock);
                }
                if (writersLeft.decrementAndGet() == 0) {
                    writing.set(false);
                }
                return;
            }
            long previous = 0;
            while (writing.get() || acceptedReads.get() == 0) {
                long a;
                long b;
                long c;
                int start;
                int attempts = 0;
                do {
                    attempts++;
                    start = SeqLock.readBegin(seqLock);
                    a = Memory.load64(data);
                    b = Memory.load64(data + 8);
                    c = Memory.load64(data + 16);
                } while (SeqLock.readRetry(seqLock, start));
                retriesSeen.addAndGet(attempts - 1);
                assertEquals(a * 3, b, "torn read");
                assertEquals(~a, c, "torn read");
                assertTrue(a >= previous, "time went backwards");
                previous = a;
                acceptedReads.incrementAndGet();
                lastSeen.accumulateAndGet(a, Math::max);
            }
        });
        assertEquals((long) writers * writesEach, Memory.load64(data), "writers lost an update");
        assertTrue(acceptedReads.get() > 0);
        assertEquals(0, Memory.load32(seqLock + SeqLock.SEQUENCE) & 1, "left odd: a writer is still inside");
        assertEquals(retriesSeen.get(), SeqLock.readRetries(seqLock), "retries the readers made vs counted");
        long writerStats = SeqLock.writerStats(seqLock);
        assertEquals((long) writers * writesEach, LockStats.acquisitions(writerStats));
        assertTrue(LockStats.spins(writerStats) >= LockStats.contended(writerStats));
    }

    /** A reader that overlaps a writer retries once; one that starts inside a write waits it out. */
    @Test
    void readerRetriesAndWaitsAreCounted() throws Exception {
        int start = SeqLock.readBegin(seqLock);
        SeqLock.writeLock(seqLock);
        SeqLock.writeUnlock(seqLock);
        assertTrue(SeqLock.readRetry(seqLock, start));
        assertFalse(SeqLock.readRetry(seqLock, SeqLock.readBegin(seqLock)));
        assertEquals(1, SeqLock.readRetries(seqLock));
        assertEquals(0, SeqLock.readSpins(seqLock));

        SeqLock.writeLock(seqLock);
        AtomicInteger seen = new AtomicInteger(-1);
        Thread reader = new Thread(() -> seen.set(SeqLock.readBegin(seqLock)));
        reader.setDaemon(true);
        reader.start();
        // The reader cannot return while the sequence is odd: give it time to spin.
        Thread.sleep(20);
        assertEquals(-1, seen.get(), "a reader got past a writer in progress");
        SeqLock.writeUnlock(seqLock);
        reader.join();
        assertEquals(Memory.load32(seqLock + SeqLock.SEQUENCE), seen.get());
        assertTrue(SeqLock.readSpins(seqLock) >= 1, "spins " + SeqLock.readSpins(seqLock));
    }

    @Test
    void aWriterQueuedBehindAnotherIsCountedAsContended() throws Exception {
        SeqLock.writeLock(seqLock);
        Thread writer = new Thread(() -> {
            SeqLock.writeLock(seqLock);
            SeqLock.writeUnlock(seqLock);
        });
        writer.setDaemon(true);
        writer.start();
        while (TicketSpinLock.queueLength(seqLock + SeqLock.WRITER_LOCK) != 2) {
            Thread.onSpinWait();
        }
        Thread.sleep(5);
        SeqLock.writeUnlock(seqLock);
        writer.join();
        long stats = SeqLock.writerStats(seqLock);
        assertEquals(2, LockStats.acquisitions(stats));
        assertEquals(1, LockStats.contended(stats));
        assertTrue(LockStats.spins(stats) >= 1);
        assertEquals(4, Memory.load32(seqLock + SeqLock.SEQUENCE));
    }
}
