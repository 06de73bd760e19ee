package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The debugging form of RwLock: it records the writer's CPU and a mask of reading CPUs and
 * panics, with a message, on recursion (a CPU taking the lock again in either mode while it
 * holds it: with writer priority even a second read deadlocks once a writer waits in between)
 * and on release by a CPU that does not hold it in that mode. Every user of one lock must use
 * this class or none of them. The reader mask is one 64-bit word: read holds are checked for CPU
 * ids 0..63 only (write holds for any). Java's shift count is taken mod 64, so 1L << cpu gave CPU
 * 223 the bit of CPU 159: two such readers at once, and the second release was reported as a
 * foreign unlock (the self-test's rwlock test panicked at 225 CPUs under QEMU TCG, issue 14).
 */
public final class CheckedRwLock {
    private CheckedRwLock() {
    }

    public static void readLock(long lock, int cpu) {
        checkNotHeld(lock, cpu);
        RwLock.readLock(lock);
        long bit = readerBit(cpu);
        long mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        while (bit != 0 && !Atomic.compareAndSet64(lock + RwLock.READER_MASK, mask, mask | bit)) {
            mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        }
    }

    public static void readUnlock(long lock, int cpu) {
        long bit = readerBit(cpu);
        long mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        if (bit != 0 && (mask & bit) == 0) {
            reportForeignUnlock(lock, cpu, true, mask);
        }
        while (bit != 0 && !Atomic.compareAndSet64(lock + RwLock.READER_MASK, mask, mask & ~bit)) {
            mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        }
        RwLock.readUnlock(lock);
    }

    public static void writeLock(long lock, int cpu) {
        checkNotHeld(lock, cpu);
        RwLock.writeLock(lock);
        Memory.store32(lock + RwLock.WRITER_CPU, cpu);
    }

    public static void writeUnlock(long lock, int cpu) {
        int writer = Atomic.loadVolatile32(lock + RwLock.WRITER_CPU);
        if (writer != cpu) {
            reportForeignUnlock(lock, cpu, false, writer);
        }
        Memory.store32(lock + RwLock.WRITER_CPU, RwLock.NO_OWNER);
        RwLock.writeUnlock(lock);
    }

    public static int writer(long lock) {
        return Atomic.loadVolatile32(lock + RwLock.WRITER_CPU);
    }

    public static long readers(long lock) {
        return Atomic.loadVolatile64(lock + RwLock.READER_MASK);
    }

    private static void checkNotHeld(long lock, int cpu) {
        boolean writes = Atomic.loadVolatile32(lock + RwLock.WRITER_CPU) == cpu;
        boolean reads = (Atomic.loadVolatile64(lock + RwLock.READER_MASK) & readerBit(cpu)) != 0;
        if (writes || reads) {
            Console.print("panic: cpu ");
            Console.printHex(cpu);
            Console.print(" acquires rwlock ");
            Console.printHex(lock);
            if (writes) {
                Console.print(" that it already holds for writing (recursive locking deadlocks)\n");
            } else {
                Console.print(" that it already holds for reading (recursive locking deadlocks)\n");
            }
            SyncPanic.halt();
        }
    }

    /** The CPU's bit in the reader mask; 0 (not tracked) from CPU 64 on. */
    private static long readerBit(int cpu) {
        return cpu >= 0 && cpu < 64 ? 1L << cpu : 0L;
    }

    private static void reportForeignUnlock(long lock, int cpu, boolean reading, long holders) {
        Console.print("panic: cpu ");
        Console.printHex(cpu);
        if (reading) {
            Console.print(" releases a read hold on rwlock ");
        } else {
            Console.print(" releases the write hold on rwlock ");
        }
        Console.printHex(lock);
        Console.print(" it does not hold (holders ");
        Console.printHex(holders);
        Console.print(")\n");
        SyncPanic.halt();
    }
}
