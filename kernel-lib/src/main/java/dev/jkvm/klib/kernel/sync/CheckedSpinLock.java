package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The debugging form of the ticket spinlock, on a CountedTicketLock (SIZE bytes: the ticket
 * lock, the holder's CPU id in its ownerCpu field, and LockStats). Taking a lock the same CPU already holds would spin forever (a ticket lock is
 * not recursive), and releasing a lock held by another CPU corrupts it; both are reported with a
 * panic message instead. Every user of one lock must use this class or none of them, so that
 * ownerCpu stays truthful.
 */
public final class CheckedSpinLock {
    private CheckedSpinLock() {
    }

    public static final int SIZE = CountedTicketLock.SIZE;

    public static void init(long lock) {
        CountedTicketLock.init(lock);
    }

    public static void lock(long lock, int cpu) {
        if (Atomic.loadVolatile32(lock + TicketSpinLock.OWNER_CPU) == cpu) {
            reportRecursion(lock, cpu);
        }
        CountedTicketLock.lock(lock);
        Memory.store32(lock + TicketSpinLock.OWNER_CPU, cpu);
    }

    public static boolean tryLock(long lock, int cpu) {
        if (Atomic.loadVolatile32(lock + TicketSpinLock.OWNER_CPU) == cpu) {
            reportRecursion(lock, cpu);
        }
        if (!CountedTicketLock.tryLock(lock)) {
            return false;
        }
        Memory.store32(lock + TicketSpinLock.OWNER_CPU, cpu);
        return true;
    }

    public static void unlock(long lock, int cpu) {
        int owner = Atomic.loadVolatile32(lock + TicketSpinLock.OWNER_CPU);
        if (owner != cpu) {
            Console.print("panic: cpu ");
            Console.printHex(cpu);
            Console.print(" releases spinlock ");
            Console.printHex(lock);
            Console.print(" held by cpu ");
            Console.printHex(owner);
            Console.print(" (NO_OWNER = 0xffffffffffffffff)\n");
            SyncPanic.halt();
        }
        // Cleared before the release store so that the next holder's own write comes last.
        Memory.store32(lock + TicketSpinLock.OWNER_CPU, TicketSpinLock.NO_OWNER);
        TicketSpinLock.unlock(lock);
    }

    /** The holder's CPU id, or TicketSpinLock.NO_OWNER. */
    public static int owner(long lock) {
        return Atomic.loadVolatile32(lock + TicketSpinLock.OWNER_CPU);
    }

    public static long stats(long lock) {
        return lock + CountedTicketLock.STATS;
    }

    private static void reportRecursion(long lock, int cpu) {
        Console.print("panic: cpu ");
        Console.printHex(cpu);
        Console.print(" acquires spinlock ");
        Console.printHex(lock);
        Console.print(" that it already holds (recursive locking deadlocks)\n");
        SyncPanic.halt();
    }
}
