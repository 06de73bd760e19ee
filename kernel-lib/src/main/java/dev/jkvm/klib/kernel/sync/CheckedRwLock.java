package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The debugging form of RwLock, for CPU ids 0..63: it records the writer's CPU and a mask of
 * reading CPUs and panics, with a message, on recursion (a CPU taking the lock again in either
 * mode while it holds it: with writer priority even a second read deadlocks once a writer
 * waits in between) and on release by a CPU that does not hold it in that mode. Every user of
 * one lock must use this class or none of them.
 */
public final class CheckedRwLock {
    private CheckedRwLock() {
    }

    public static void readLock(long lock, int cpu) {
        checkNotHeld(lock, cpu);
        RwLock.readLock(lock);
        long mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        while (!Atomic.compareAndSet64(lock + RwLock.READER_MASK, mask, mask | (1L << cpu))) {
            mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        }
    }

    public static void readUnlock(long lock, int cpu) {
        long mask = Atomic.loadVolatile64(lock + RwLock.READER_MASK);
        if ((mask & (1L << cpu)) == 0) {
            reportForeignUnlock(lock, cpu, true, mask);
        }
        while (!Atomic.compareAndSet64(lock + RwLock.READER_MASK, mask, mask & ~(1L << cpu))) {
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
        boolean reads = (Atomic.loadVolatile64(lock + RwLock.READER_MASK) & (1L << cpu)) != 0;
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
