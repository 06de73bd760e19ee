package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The debugging form of McsLock: records the holder's CPU id in ownerCpu and panics, with a
 * message, on recursive acquisition (which would overwrite the CPU's own queue node and deadlock)
 * and on release by a CPU that does not hold the lock. Every user of one lock must use this
 * class or none of them. nodes is the lock's per-CPU node array (McsLock.nodeFor).
 */
public final class CheckedMcsLock {
    private CheckedMcsLock() {
    }

    public static void lock(long lock, long nodes, int cpu) {
        if (Atomic.loadVolatile32(lock + McsLock.OWNER_CPU) == cpu) {
            reportRecursion(lock, cpu);
        }
        McsLock.lock(lock, McsLock.nodeFor(nodes, cpu));
        Memory.store32(lock + McsLock.OWNER_CPU, cpu);
    }

    public static boolean tryLock(long lock, long nodes, int cpu) {
        if (Atomic.loadVolatile32(lock + McsLock.OWNER_CPU) == cpu) {
            reportRecursion(lock, cpu);
        }
        if (!McsLock.tryLock(lock, McsLock.nodeFor(nodes, cpu))) {
            return false;
        }
        Memory.store32(lock + McsLock.OWNER_CPU, cpu);
        return true;
    }

    public static void unlock(long lock, long nodes, int cpu) {
        int owner = Atomic.loadVolatile32(lock + McsLock.OWNER_CPU);
        if (owner != cpu) {
            Console.print("panic: cpu ");
            Console.printHex(cpu);
            Console.print(" releases mcs lock ");
            Console.printHex(lock);
            Console.print(" held by cpu ");
            Console.printHex(owner);
            Console.print(" (NO_OWNER = 0xffffffffffffffff)\n");
            SyncPanic.halt();
        }
        // Cleared before the hand-over so that the next holder's own write comes last.
        Memory.store32(lock + McsLock.OWNER_CPU, McsLock.NO_OWNER);
        McsLock.unlock(lock, McsLock.nodeFor(nodes, cpu));
    }

    public static int owner(long lock) {
        return Atomic.loadVolatile32(lock + McsLock.OWNER_CPU);
    }

    private static void reportRecursion(long lock, int cpu) {
        Console.print("panic: cpu ");
        Console.printHex(cpu);
        Console.print(" acquires mcs lock ");
        Console.printHex(lock);
        Console.print(" that it already holds (recursive locking deadlocks)\n");
        SyncPanic.halt();
    }
}
