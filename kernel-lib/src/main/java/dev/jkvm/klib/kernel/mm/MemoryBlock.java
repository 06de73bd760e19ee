package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Memory;

/**
 * Clears memory from compiled kernel code that must also run on the host JVM (where the
 * kernel_memzero routine does not exist). Four stores an iteration: ring-0 code is emulated
 * instruction by instruction on hosts like ours, so the loop's own compare and add count.
 */
public final class MemoryBlock {
    private MemoryBlock() {
    }

    /** Zeroes bytes (a multiple of 8) from address (8-byte aligned). */
    public static void zero(long address, long bytes) {
        long end = address + bytes;
        long p = address;
        for (; p + 32 <= end; p += 32) {
            Memory.store64(p, 0L);
            Memory.store64(p + 8, 0L);
            Memory.store64(p + 16, 0L);
            Memory.store64(p + 24, 0L);
        }
        for (; p < end; p += 8) {
            Memory.store64(p, 0L);
        }
    }
}
