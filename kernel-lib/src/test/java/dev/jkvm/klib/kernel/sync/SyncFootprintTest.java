package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each sync structure, placed between two bands of garbage, writes only its own SIZE bytes and
 * holds the values its layout comment documents after init and after use. In the kernel these
 * structures sit next to other data (a lock inside a run queue, statistics inside a lock), so a
 * field offset applied with the wrong sign corrupts a neighbour; PIT found such mutants ("+ 8"
 * turned into "- 8") surviving while every test placed its structure alone in zeroed memory.
 */
class SyncFootprintTest {
    private static final byte GARBAGE = (byte) 0xA5;
    private static final int GUARD = 64;

    /** A structure of size bytes at address, with GUARD garbage bytes on either side. */
    private record Placed(MemorySegment region, long address, long size) {
        static Placed in(Arena arena, long size) {
            MemorySegment region = arena.allocate(GUARD + size + GUARD, 64).fill(GARBAGE);
            return new Placed(region, region.address() + GUARD, size);
        }

        void assertNeighboursUntouched() {
            for (long i = 0; i < GUARD; i++) {
                assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, i), "byte " + (GUARD - i) + " before the structure");
                assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, GUARD + size + i), "byte " + i + " after the structure");
            }
        }
    }

    private static void assertStats(long stats, long acquisitions, long contended, long spins) {
        assertEquals(acquisitions, Memory.load64(stats + LockStats.ACQUISITIONS), "acquisitions");
        assertEquals(contended, Memory.load64(stats + LockStats.CONTENDED), "contended");
        assertEquals(spins, Memory.load64(stats + LockStats.SPINS), "spins");
    }

    @Test
    void ticketSpinLockCountsTicketsInItsOwnWords() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, TicketSpinLock.SIZE);
            long lock = p.address();
            TicketSpinLock.init(lock);
            assertEquals(0, Memory.load32(lock + TicketSpinLock.NEXT_TICKET));
            assertEquals(0, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
            assertEquals(TicketSpinLock.NO_OWNER, Memory.load32(lock + TicketSpinLock.OWNER_CPU));
            assertEquals(0, Memory.load32(lock + TicketSpinLock.RESERVED));

            TicketSpinLock.lock(lock);
            TicketSpinLock.unlock(lock);
            TicketSpinLock.lock(lock);
            // Ticket 1 is served: next 2, serving 1.
            assertEquals(2, Memory.load32(lock + TicketSpinLock.NEXT_TICKET));
            assertEquals(1, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
            assertTrue(TicketSpinLock.isLocked(lock));
            assertEquals(1, TicketSpinLock.queueLength(lock));
            assertFalse(TicketSpinLock.tryLock(lock), "held");
            TicketSpinLock.unlock(lock);
            assertFalse(TicketSpinLock.isLocked(lock));
            assertEquals(0, TicketSpinLock.queueLength(lock));
            assertTrue(TicketSpinLock.tryLock(lock));
            assertEquals(3, Memory.load32(lock + TicketSpinLock.NEXT_TICKET));
            assertEquals(2, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
            TicketSpinLock.unlock(lock);
            p.assertNeighboursUntouched();
        }
    }

    @Test
    void countedTicketLockKeepsItsStatisticsAfterTheTicketWords() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, CountedTicketLock.SIZE);
            long lock = p.address();
            CountedTicketLock.init(lock);
            assertStats(lock + CountedTicketLock.STATS, 0, 0, 0);
            CountedTicketLock.lock(lock);
            assertFalse(CountedTicketLock.tryLock(lock), "held");
            CountedTicketLock.unlock(lock);
            assertTrue(CountedTicketLock.tryLock(lock));
            CountedTicketLock.unlock(lock);
            // The failed tryLock is no acquisition.
            assertStats(CountedTicketLock.stats(lock), 2, 0, 0);
            assertEquals(2, Memory.load32(lock + TicketSpinLock.NEXT_TICKET));
            assertEquals(2, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
            p.assertNeighboursUntouched();
        }
    }

    @Test
    void mcsLockAndItsNodeStayInsideTheirBytes() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, McsLock.SIZE);
            Placed first = Placed.in(arena, McsLock.NODE_SIZE);
            Placed second = Placed.in(arena, McsLock.NODE_SIZE);
            long lock = p.address();
            McsLock.init(lock);
            assertEquals(0L, Memory.load64(lock + McsLock.TAIL));
            assertEquals(McsLock.NO_OWNER, Memory.load32(lock + McsLock.OWNER_CPU));
            assertEquals(0, Memory.load32(lock + McsLock.OWNER_CPU + 4), "reserved");
            assertStats(lock + McsLock.STATS, 0, 0, 0);

            // The nodes still hold garbage: tryLock must set the node up itself, or unlock would
            // follow the garbage in next as a successor.
            assertTrue(McsLock.tryLock(lock, first.address()));
            assertEquals(0L, Memory.load64(first.address() + McsLock.NEXT));
            assertEquals(first.address(), Memory.load64(lock + McsLock.TAIL));
            assertFalse(McsLock.tryLock(lock, second.address()), "held");
            assertEquals(first.address(), Memory.load64(lock + McsLock.TAIL), "a failed tryLock does not queue");
            McsLock.unlock(lock, first.address());
            assertFalse(McsLock.isLocked(lock));

            McsLock.lock(lock, second.address());
            assertEquals(1, Memory.load32(second.address() + McsLock.WAITING), "nobody handed over to the first in line");
            assertTrue(McsLock.isLocked(lock));
            McsLock.unlock(lock, second.address());
            assertFalse(McsLock.isLocked(lock));
            assertStats(McsLock.stats(lock), 2, 0, 0);
            p.assertNeighboursUntouched();
            first.assertNeighboursUntouched();
            second.assertNeighboursUntouched();
        }
    }

    @Test
    void rwLockFieldsAfterInitAndUse() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, RwLock.SIZE);
            long lock = p.address();
            RwLock.init(lock);
            assertEquals(0, Memory.load32(lock + RwLock.STATE));
            assertEquals(0, Memory.load32(lock + RwLock.WRITERS_WAITING));
            assertEquals(RwLock.NO_OWNER, CheckedRwLock.writer(lock), "no writer");
            assertEquals(0, Memory.load32(lock + RwLock.WRITER_CPU + 4), "reserved");
            assertEquals(0L, CheckedRwLock.readers(lock), "no reader");
            assertStats(RwLock.readStats(lock), 0, 0, 0);
            assertStats(RwLock.writeStats(lock), 0, 0, 0);

            RwLock.readLock(lock);
            RwLock.readLock(lock);
            assertEquals(2, RwLock.state(lock));
            RwLock.readUnlock(lock);
            assertEquals(1, RwLock.state(lock));
            RwLock.readUnlock(lock);
            RwLock.writeLock(lock);
            assertEquals(RwLock.WRITER, RwLock.state(lock));
            assertEquals(0, Memory.load32(lock + RwLock.WRITERS_WAITING), "the writer no longer waits");
            RwLock.writeUnlock(lock);
            assertEquals(0, RwLock.state(lock));
            assertStats(RwLock.readStats(lock), 2, 0, 0);
            assertStats(RwLock.writeStats(lock), 1, 0, 0);
            p.assertNeighboursUntouched();
        }
    }

    @Test
    void seqLockFieldsAfterInitAndAWrite() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, SeqLock.SIZE);
            long seq = p.address();
            SeqLock.init(seq);
            assertEquals(0, Memory.load32(seq + SeqLock.SEQUENCE));
            assertEquals(0, Memory.load32(seq + 4), "reserved");
            assertEquals(0L, SeqLock.readRetries(seq));
            assertEquals(0L, SeqLock.readSpins(seq));
            assertStats(SeqLock.writerStats(seq), 0, 0, 0);

            int start = SeqLock.readBegin(seq);
            assertEquals(0, start);
            SeqLock.writeLock(seq);
            assertEquals(1, Memory.load32(seq + SeqLock.SEQUENCE), "odd while the writer is inside");
            SeqLock.writeUnlock(seq);
            assertEquals(2, Memory.load32(seq + SeqLock.SEQUENCE));
            assertTrue(SeqLock.readRetry(seq, start));
            assertEquals(1L, SeqLock.readRetries(seq));
            int again = SeqLock.readBegin(seq);
            assertEquals(2, again);
            assertFalse(SeqLock.readRetry(seq, again));
            assertEquals(1L, SeqLock.readRetries(seq));
            assertFalse(TicketSpinLock.isLocked(seq + SeqLock.WRITER_LOCK), "writers' lock released");
            assertStats(SeqLock.writerStats(seq), 1, 0, 0);
            p.assertNeighboursUntouched();
        }
    }

    @Test
    void senseBarrierFieldsAcrossRounds() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, SenseBarrier.SIZE);
            long barrier = p.address();
            SenseBarrier.init(barrier, 1);
            assertEquals(1, Memory.load32(barrier + SenseBarrier.REMAINING));
            assertEquals(1, Memory.load32(barrier + SenseBarrier.PARTIES));
            assertEquals(0, Memory.load32(barrier + SenseBarrier.SENSE));
            assertEquals(0, SenseBarrier.rounds(barrier));
            assertStats(SenseBarrier.stats(barrier), 0, 0, 0);

            assertTrue(SenseBarrier.await(barrier));
            assertEquals(1, Memory.load32(barrier + SenseBarrier.SENSE), "flipped");
            assertEquals(1, Memory.load32(barrier + SenseBarrier.REMAINING), "re-armed");
            assertTrue(SenseBarrier.await(barrier));
            assertEquals(0, Memory.load32(barrier + SenseBarrier.SENSE), "flipped back");
            assertEquals(2, SenseBarrier.rounds(barrier));
            assertStats(SenseBarrier.stats(barrier), 2, 0, 0);
            p.assertNeighboursUntouched();
        }
    }

    @Test
    void semaphoresFieldsAfterInitAndUse() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, SpinSemaphore.SIZE);
            long semaphore = p.address();
            SpinSemaphore.init(semaphore, 3);
            assertEquals(3, Memory.load32(semaphore + SpinSemaphore.COUNT));
            assertEquals(0, Memory.load32(semaphore + SpinSemaphore.WAITERS));
            assertTrue(SpinSemaphore.tryWait(semaphore));
            SpinSemaphore.waitSpinning(semaphore);
            assertEquals(1, SpinSemaphore.count(semaphore));
            SpinSemaphore.post(semaphore);
            assertEquals(2, SpinSemaphore.count(semaphore));
            assertEquals(0, Memory.load32(semaphore + SpinSemaphore.WAITERS));
            p.assertNeighboursUntouched();

            Placed q = Placed.in(arena, CountedSpinSemaphore.SIZE);
            long counted = q.address();
            CountedSpinSemaphore.init(counted, 1);
            assertEquals(1, SpinSemaphore.count(counted));
            assertEquals(0, Memory.load32(counted + SpinSemaphore.WAITERS));
            assertStats(CountedSpinSemaphore.stats(counted), 0, 0, 0);
            CountedSpinSemaphore.waitSpinning(counted);
            assertEquals(0, SpinSemaphore.count(counted));
            CountedSpinSemaphore.post(counted);
            assertEquals(1, SpinSemaphore.count(counted));
            assertStats(CountedSpinSemaphore.stats(counted), 1, 0, 0);
            q.assertNeighboursUntouched();
        }
    }

    @Test
    void lockStatisticsCountersAreSeparate() {
        try (Arena arena = HostArena.ofConfined()) {
            Placed p = Placed.in(arena, LockStats.SIZE);
            long stats = p.address();
            LockStats.init(stats);
            assertStats(stats, 0, 0, 0);
            LockStats.recordExclusive(stats, 0);
            LockStats.recordExclusive(stats, 5);
            LockStats.recordShared(stats, 3);
            LockStats.recordShared(stats, 0);
            assertStats(stats, 4, 2, 8);
            assertEquals(4, LockStats.acquisitions(stats));
            assertEquals(2, LockStats.contended(stats));
            assertEquals(8, LockStats.spins(stats));
            p.assertNeighboursUntouched();
        }
    }
}
