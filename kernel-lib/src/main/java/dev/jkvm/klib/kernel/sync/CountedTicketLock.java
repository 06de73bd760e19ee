package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;

/**
 * A TicketSpinLock followed by LockStats: the same ticket protocol (TicketSpinLock.unlock,
 * tryLock and isLocked work on it), with every acquisition counted in the lock's memory. It is a
 * separate layout so that the plain 16-byte ticket locks embedded in other structures keep
 * their size. IrqSpinLock, CheckedSpinLock and SeqLock's writer lock use this layout, so every
 * ticket-lock flavour reports its contention the same way.
 *
 * Layout (SIZE bytes, 8-byte aligned): +0 TicketSpinLock, +STATS LockStats.
 */
public final class CountedTicketLock {
    private CountedTicketLock() {
    }

    public static final int STATS = TicketSpinLock.SIZE;
    public static final int SIZE = STATS + LockStats.SIZE;

    public static void init(long lock) {
        TicketSpinLock.init(lock);
        LockStats.init(lock + STATS);
    }

    public static void lock(long lock) {
        int ticket = Atomic.fetchAdd32Acquire(lock + TicketSpinLock.NEXT_TICKET, 1);
        long spins = 0;
        while (Atomic.loadVolatile32(lock + TicketSpinLock.NOW_SERVING) != ticket) {
            Cpu.pause();
            spins++;
        }
        LockStats.recordExclusive(lock + STATS, spins);
    }

    /** Takes the lock only if it is free and nobody waits (TicketSpinLock.tryLock), counted as uncontended. */
    public static boolean tryLock(long lock) {
        if (!TicketSpinLock.tryLock(lock)) {
            return false;
        }
        LockStats.recordExclusive(lock + STATS, 0);
        return true;
    }

    public static void unlock(long lock) {
        TicketSpinLock.unlock(lock);
    }

    public static long stats(long lock) {
        return lock + STATS;
    }
}
