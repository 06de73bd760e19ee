package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every init must set every field: kernel memory (a task's stack, a reused slab) is not zeroed
 * the way a fresh test arena is, so each structure here starts out filled with garbage. PIT found
 * the init stores surviving their removal while tests only ever used zeroed memory.
 */
class InitOverGarbageTest {
    private static final byte GARBAGE = (byte) 0xA5;

    private static long garbage(Arena arena, long size) {
        return arena.allocate(size, 64).fill(GARBAGE).address();
    }

    @Test
    void mcsLockStartsFreeWithZeroStatistics() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = garbage(arena, McsLock.SIZE);
            long node = garbage(arena, McsLock.NODE_SIZE);
            McsLock.init(lock);
            assertFalse(McsLock.isLocked(lock));
            McsLock.lock(lock, node);
            assertTrue(McsLock.isLocked(lock));
            McsLock.unlock(lock, node);
            assertFalse(McsLock.isLocked(lock));
            assertEquals(1, LockStats.acquisitions(McsLock.stats(lock)));
            assertEquals(0, LockStats.contended(McsLock.stats(lock)));
            assertEquals(0, LockStats.spins(McsLock.stats(lock)));
        }
    }

    @Test
    void countedTicketLockAndIrqSpinLockStartFreeWithZeroStatistics() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = garbage(arena, CountedTicketLock.SIZE);
            CountedTicketLock.init(lock);
            CountedTicketLock.lock(lock);
            CountedTicketLock.unlock(lock);
            assertTrue(CountedTicketLock.tryLock(lock));
            CountedTicketLock.unlock(lock);
            assertEquals(2, LockStats.acquisitions(CountedTicketLock.stats(lock)));
            assertEquals(0, LockStats.contended(CountedTicketLock.stats(lock)));

            // RFLAGS as IrqSpinLockTest reads it: the simulated interrupt flag (IF is bit 9).
            Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? 0x202 : 0x2);
            long irq = garbage(arena, IrqSpinLock.SIZE);
            IrqSpinLock.init(irq);
            IrqSpinLock.unlockIrqRestore(irq, IrqSpinLock.lockIrqSave(irq));
            assertEquals(1, LockStats.acquisitions(IrqSpinLock.stats(irq)));
            assertEquals(0, LockStats.spins(IrqSpinLock.stats(irq)));
        }
    }

    @Test
    void semaphoresStartWithTheirCountAndNoWaiters() {
        try (Arena arena = HostArena.ofConfined()) {
            long semaphore = garbage(arena, SpinSemaphore.SIZE);
            SpinSemaphore.init(semaphore, 2);
            assertEquals(2, SpinSemaphore.count(semaphore));
            assertTrue(SpinSemaphore.tryWait(semaphore));
            assertTrue(SpinSemaphore.tryWait(semaphore));
            assertFalse(SpinSemaphore.tryWait(semaphore));
            // With garbage left in the waiter count, post would try to wake a waiter nobody registered.
            SpinSemaphore.post(semaphore);
            assertEquals(1, SpinSemaphore.count(semaphore));

            long counted = garbage(arena, CountedSpinSemaphore.SIZE);
            CountedSpinSemaphore.init(counted, 1);
            CountedSpinSemaphore.waitSpinning(counted);
            CountedSpinSemaphore.post(counted);
            assertEquals(1, LockStats.acquisitions(CountedSpinSemaphore.stats(counted)));
            assertEquals(0, LockStats.contended(CountedSpinSemaphore.stats(counted)));
        }
    }

    @Test
    void statisticsCountEveryAcquisitionAndSpin() {
        try (Arena arena = HostArena.ofConfined()) {
            long stats = garbage(arena, LockStats.SIZE);
            LockStats.init(stats);
            LockStats.recordExclusive(stats, 0);
            LockStats.recordExclusive(stats, 5);
            LockStats.recordShared(stats, 0);
            LockStats.recordShared(stats, 3);
            assertEquals(4, LockStats.acquisitions(stats));
            assertEquals(2, LockStats.contended(stats));
            assertEquals(8, LockStats.spins(stats));
        }
    }

    @Test
    void rwLockStartsFreeWithZeroStatistics() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = garbage(arena, RwLock.SIZE);
            RwLock.init(lock);
            assertEquals(0, RwLock.state(lock));
            RwLock.readLock(lock);
            assertEquals(1, RwLock.state(lock));
            RwLock.readUnlock(lock);
            RwLock.writeLock(lock);
            assertEquals(RwLock.WRITER, RwLock.state(lock));
            RwLock.writeUnlock(lock);
            assertEquals(0, RwLock.state(lock));
            assertEquals(1, LockStats.acquisitions(RwLock.readStats(lock)));
            assertEquals(1, LockStats.acquisitions(RwLock.writeStats(lock)));
            assertEquals(0, LockStats.contended(RwLock.readStats(lock)));
            assertEquals(0, LockStats.contended(RwLock.writeStats(lock)));
        }
    }

    @Test
    void ticketLockAndSeqLockStartFree() {
        try (Arena arena = HostArena.ofConfined()) {
            long ticket = garbage(arena, TicketSpinLock.SIZE);
            TicketSpinLock.init(ticket);
            assertFalse(TicketSpinLock.isLocked(ticket));
            assertEquals(0, TicketSpinLock.queueLength(ticket));
            TicketSpinLock.lock(ticket);
            assertTrue(TicketSpinLock.isLocked(ticket));
            TicketSpinLock.unlock(ticket);
            assertFalse(TicketSpinLock.isLocked(ticket));
            assertTrue(TicketSpinLock.tryLock(ticket));
            TicketSpinLock.unlock(ticket);

            long seq = garbage(arena, SeqLock.SIZE);
            SeqLock.init(seq);
            int start = SeqLock.readBegin(seq);
            assertEquals(0, start & 1, "no writer inside");
            assertFalse(SeqLock.readRetry(seq, start));
            SeqLock.writeLock(seq);
            SeqLock.writeUnlock(seq);
            assertTrue(SeqLock.readRetry(seq, start), "a write happened since readBegin");
            assertEquals(1, LockStats.acquisitions(SeqLock.writerStats(seq)));
            assertEquals(0, SeqLock.readSpins(seq));
        }
    }

    @Test
    void aBarrierOfOneReleasesEveryRound() {
        try (Arena arena = HostArena.ofConfined()) {
            long barrier = garbage(arena, SenseBarrier.SIZE);
            SenseBarrier.init(barrier, 1);
            assertEquals(0, SenseBarrier.rounds(barrier));
            assertTrue(SenseBarrier.await(barrier));
            assertTrue(SenseBarrier.await(barrier));
            assertEquals(2, SenseBarrier.rounds(barrier));
        }
    }
}
