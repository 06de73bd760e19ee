package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.rt.Memory;

/** Latency samples (longs in raw memory) and their order statistics. */
public final class Samples {
    private Samples() {
    }

    public static void set(long samples, int index, long value) {
        Memory.store64(samples + index * 8L, value);
    }

    /** Shell sort with gaps n/2, n/4, ...: no recursion and few instructions for 1000 samples. */
    public static void sort(long samples, int count) {
        for (int gap = count / 2; gap > 0; gap = gap / 2) {
            for (int i = gap; i < count; i++) {
                long value = Memory.load64(samples + i * 8L);
                int j = i;
                while (j >= gap && Memory.load64(samples + (j - gap) * 8L) > value) {
                    Memory.store64(samples + j * 8L, Memory.load64(samples + (j - gap) * 8L));
                    j -= gap;
                }
                Memory.store64(samples + j * 8L, value);
            }
        }
    }

    /** The sample below which the given per-mille of a sorted set lies (500: median, 990: p99). */
    public static long quantile(long sortedSamples, int count, int perMille) {
        if (count == 0) {
            return 0;
        }
        int index = (int) ((long) count * perMille / 1000);
        if (index >= count) {
            index = count - 1;
        }
        return Memory.load64(sortedSamples + index * 8L);
    }
}
