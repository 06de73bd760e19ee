package dev.jkvm.klib.compiler.bench;

import dev.jkvm.klib.rt.Memory;

/**
 * Reference kernel routines for the code-quality benchmark; bench/routines.c holds the same
 * routines in C for gcc -O2.
 */
public final class BenchRoutines {
    private BenchRoutines() {
    }

    static final int[] NEXT = {3, 7, -1, 5, 2, 9, 0, 11, 4, 6, 1, 8, 10, 14, 15, 13};
    static final int[] VALUE = {5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765};

    static int queueHead;
    static int queueTail;
    static final int QUEUE_MASK = 63;

    public static void copyWords(long dst, long src, int n) {
        for (int i = 0; i < n; i++) {
            Memory.store64(dst + 8L * i, Memory.load64(src + 8L * i));
        }
    }

    public static int checksum(long p, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum = ((sum << 1) | (sum >>> 31)) + (Memory.load8(p + i) & 0xFF);
        }
        return sum;
    }

    public static int walkList(int head) {
        int sum = 0;
        int i = head;
        while (i >= 0) {
            sum += VALUE[i];
            i = NEXT[i];
        }
        return sum;
    }

    public static boolean push(long base, int v) {
        if (queueTail - queueHead == QUEUE_MASK + 1) {
            return false;
        }
        Memory.store32(base + 4L * (queueTail & QUEUE_MASK), v);
        queueTail++;
        return true;
    }

    public static int pop(long base) {
        if (queueHead == queueTail) {
            return -1;
        }
        int v = Memory.load32(base + 4L * (queueHead & QUEUE_MASK));
        queueHead++;
        return v;
    }

    public static int queueRound(long base, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            push(base, i);
            push(base, i * 3);
            sum += pop(base);
        }
        return sum;
    }

    public static int firstZeroBit(long bitmap, int words) {
        for (int i = 0; i < words; i++) {
            long w = Memory.load64(bitmap + 8L * i);
            if (w != -1L) {
                long free = ~w & (w + 1);
                int bit = 0;
                while ((free & 1) == 0) {
                    free >>>= 1;
                    bit++;
                }
                return i * 64 + bit;
            }
        }
        return -1;
    }
}
