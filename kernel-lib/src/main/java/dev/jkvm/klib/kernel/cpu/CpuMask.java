package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * A set of CPU ids 0..MAX_CPUS-1 as a bitmap in memory: CPU c is bit (c % 64) of the 64-bit word
 * at byte offset (c / 64) * 8. SIZE bytes, 8-byte aligned. set and clear are atomic (LOCK
 * CMPXCHG loops) so several CPUs may update one mask; the other operations read a snapshot.
 */
public final class CpuMask {
    private CpuMask() {
    }

    /** Largest number of CPUs a mask holds (x2APIC ids go higher; kernel CPU ids are dense). */
    public static final int MAX_CPUS = 1024;
    public static final int WORDS = MAX_CPUS / 64;
    public static final int SIZE = WORDS * 8;

    public static void clearAll(long mask) {
        for (int w = 0; w < WORDS; w++) {
            Memory.store64(mask + w * 8L, 0L);
        }
    }

    /** Sets the CPUs 0..count-1 and clears the rest (straight-line loops: no test per word). */
    public static void setFirst(long mask, int count) {
        int full = count <= 0 ? 0 : count >= MAX_CPUS ? WORDS : count >>> 6;
        int w = 0;
        for (; w < full; w++) {
            Memory.store64(mask + w * 8L, -1L);
        }
        if (w < WORDS && count > 0 && (count & 63) != 0) {
            Memory.store64(mask + w * 8L, (1L << (count & 63)) - 1);
            w++;
        }
        for (; w < WORDS; w++) {
            Memory.store64(mask + w * 8L, 0L);
        }
    }

    public static void copy(long destination, long source) {
        for (int w = 0; w < WORDS; w++) {
            Memory.store64(destination + w * 8L, Atomic.loadVolatile64(source + w * 8L));
        }
    }

    /** Atomically adds the CPU; returns whether it was already present. */
    public static boolean set(long mask, int cpu) {
        long word = mask + (cpu >>> 6) * 8L;
        long bit = 1L << (cpu & 63);
        long old = Atomic.loadVolatile64(word);
        while (!Atomic.compareAndSet64(word, old, old | bit)) {
            old = Atomic.loadVolatile64(word);
        }
        return (old & bit) != 0;
    }

    /** Atomically removes the CPU; returns whether it was present. */
    public static boolean clear(long mask, int cpu) {
        long word = mask + (cpu >>> 6) * 8L;
        long bit = 1L << (cpu & 63);
        long old = Atomic.loadVolatile64(word);
        while (!Atomic.compareAndSet64(word, old, old & ~bit)) {
            old = Atomic.loadVolatile64(word);
        }
        return (old & bit) != 0;
    }

    public static boolean contains(long mask, int cpu) {
        return (Atomic.loadVolatile64(mask + (cpu >>> 6) * 8L) & (1L << (cpu & 63))) != 0;
    }

    public static int count(long mask) {
        int count = 0;
        for (int w = 0; w < WORDS; w++) {
            count += bitCount(Atomic.loadVolatile64(mask + w * 8L));
        }
        return count;
    }

    /** The smallest CPU id >= from in the mask, or -1: for (c = next(m, 0); c >= 0; c = next(m, c + 1)). */
    public static int next(long mask, int from) {
        if (from < 0) {
            from = 0;
        }
        for (int w = from >>> 6; w < WORDS; w++) {
            long bits = Atomic.loadVolatile64(mask + w * 8L);
            if (w == from >>> 6) {
                bits &= -1L << (from & 63);
            }
            if (bits != 0) {
                return w * 64 + lowestBit(bits);
            }
        }
        return -1;
    }

    /** Index of the lowest set bit of a non-zero word (binary search: six steps). */
    public static int lowestBit(long bits) {
        int index = 0;
        if ((bits & 0xFFFFFFFFL) == 0) {
            index += 32;
            bits >>>= 32;
        }
        if ((bits & 0xFFFFL) == 0) {
            index += 16;
            bits >>>= 16;
        }
        if ((bits & 0xFFL) == 0) {
            index += 8;
            bits >>>= 8;
        }
        if ((bits & 0xFL) == 0) {
            index += 4;
            bits >>>= 4;
        }
        if ((bits & 0x3L) == 0) {
            index += 2;
            bits >>>= 2;
        }
        if ((bits & 0x1L) == 0) {
            index += 1;
        }
        return index;
    }

    /** Set bits of a word (clears the lowest set bit until none is left). */
    public static int bitCount(long bits) {
        int count = 0;
        while (bits != 0) {
            bits &= bits - 1;
            count++;
        }
        return count;
    }
}
