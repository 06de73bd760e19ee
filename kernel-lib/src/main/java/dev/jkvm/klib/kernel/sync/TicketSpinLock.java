package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/**
 * A fair (FIFO) ticket spinlock in raw memory. A CPU draws the next ticket with one LOCK XADD
 * and spins, with PAUSE, until the "now serving" counter reaches it; unlock hands the lock to
 * the next ticket. Waiters are therefore served in the order they drew tickets.
 *
 * Layout (SIZE bytes, 4-byte aligned, ideally on its own cache line):
 * <pre>
 *   +0  int nextTicket   the ticket the next locker draws
 *   +4  int nowServing   the ticket that holds the lock; nextTicket == nowServing: free
 *   +8  int ownerCpu     CPU id of the holder, maintained only by CheckedSpinLock; NO_OWNER otherwise
 *   +12 int reserved
 * </pre>
 * Both counters wrap at 2^32; only their equality and difference matter, so 2^32 simultaneous
 * waiters would be needed to confuse them.
 *
 * Ordering (x86-TSO, Intel SDM Vol. 3A 9.2.2): the locked XADD is a full barrier, and the loads
 * of nowServing in the spin are not reordered with the critical section's later loads or stores,
 * so acquiring needs no fence. Unlock is a plain store: stores are not reordered with earlier
 * loads or stores, so everything the critical section did is visible before the next ticket
 * sees its turn. Only nowServing's owner writes it, so the increment needs no locked instruction.
 */
public final class TicketSpinLock {
    private TicketSpinLock() {
    }

    public static final int NEXT_TICKET = 0;
    public static final int NOW_SERVING = 4;
    public static final int OWNER_CPU = 8;
    public static final int RESERVED = 12;
    public static final int SIZE = 16;

    /** ownerCpu of a lock no CheckedSpinLock caller holds. */
    public static final int NO_OWNER = -1;

    public static void init(long lock) {
        Memory.store32(lock + NEXT_TICKET, 0);
        Memory.store32(lock + NOW_SERVING, 0);
        Memory.store32(lock + OWNER_CPU, NO_OWNER);
        Memory.store32(lock + RESERVED, 0);
    }

    public static void lock(long lock) {
        int ticket = Atomic.fetchAdd32Acquire(lock + NEXT_TICKET, 1);
        while (Atomic.loadVolatile32(lock + NOW_SERVING) != ticket) {
            Cpu.pause();
        }
    }

    /**
     * Takes the lock only if it is free and nobody waits. The CAS can succeed only while
     * nextTicket still equals the nowServing value just read, and nowServing never passes
     * nextTicket, so the ticket drawn is the one being served.
     */
    public static boolean tryLock(long lock) {
        int serving = Atomic.loadVolatile32(lock + NOW_SERVING);
        return Atomic.compareAndSet32Acquire(lock + NEXT_TICKET, serving, serving + 1);
    }

    public static void unlock(long lock) {
        int next = Memory.load32(lock + NOW_SERVING) + 1;
        Fence.release();
        Memory.store32(lock + NOW_SERVING, next);
    }

    /** Whether some CPU holds the lock (a snapshot, for assertions). */
    public static boolean isLocked(long lock) {
        return Atomic.loadVolatile32(lock + NOW_SERVING) != Atomic.loadVolatile32(lock + NEXT_TICKET);
    }

    /** CPUs holding or waiting for the lock (a snapshot, for contention statistics). */
    public static int queueLength(long lock) {
        return Atomic.loadVolatile32(lock + NEXT_TICKET) - Atomic.loadVolatile32(lock + NOW_SERVING);
    }
}
