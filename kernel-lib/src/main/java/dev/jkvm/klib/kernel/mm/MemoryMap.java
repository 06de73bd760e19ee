package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Memory;

/**
 * Reads how much RAM there is from the multiboot information (Multiboot 0.6.96 §3.3): the
 * memory map (flags bit 6) when present, else mem_upper (bit 0), else a fixed 64 MiB.
 */
public final class MemoryMap {
    private MemoryMap() {
    }

    private static final int FLAG_MEMORY = 1;
    private static final int FLAG_MEMORY_MAP = 1 << 6;
    private static final int FLAG_COMMAND_LINE = 1 << 2;
    private static final int AVAILABLE = 1;
    public static final long FALLBACK_RAM_END = 64L << 20;

    private static int entryCount;
    private static boolean mapUsed;
    private static long availableBytes;

    /** End of the highest available RAM range. */
    public static long ramEnd(long info) {
        entryCount = 0;
        mapUsed = false;
        availableBytes = FALLBACK_RAM_END;
        if (info == 0) {
            return FALLBACK_RAM_END;
        }
        int flags = Memory.load32(info);
        if ((flags & FLAG_MEMORY_MAP) != 0) {
            long length = Memory.load32(info + 44) & 0xFFFFFFFFL;
            long map = Memory.load32(info + 48) & 0xFFFFFFFFL;
            long end = 0;
            long sum = 0;
            long entry = map;
            while (entry + 24 <= map + length) {
                long size = Memory.load32(entry) & 0xFFFFFFFFL;
                long base = Memory.load64(entry + 4);
                long bytes = Memory.load64(entry + 12);
                int type = Memory.load32(entry + 20);
                if (type == AVAILABLE && base + bytes > end) {
                    end = base + bytes;
                }
                if (type == AVAILABLE) {
                    sum += bytes;
                }
                entryCount++;
                if (size < 20) {
                    break;
                }
                entry += size + 4;
            }
            if (end > 0) {
                mapUsed = true;
                availableBytes = sum;
                return end;
            }
        }
        if ((flags & FLAG_MEMORY) != 0) {
            long upper = (Memory.load32(info + 8) & 0xFFFFFFFFL) * 1024;
            availableBytes = (Memory.load32(info + 4) & 0xFFFFFFFFL) * 1024 + upper;
            return 0x100000L + upper;
        }
        return FALLBACK_RAM_END;
    }

    /**
     * The first byte after the multiboot information, its memory map and its command line: a
     * loader may put them right after the image (QEMU does), where the boot allocator would
     * otherwise hand them out.
     */
    public static long endOfBootData(long info) {
        if (info == 0) {
            return 0;
        }
        long end = info + 88;
        int flags = Memory.load32(info);
        if ((flags & FLAG_MEMORY_MAP) != 0) {
            long mapEnd = (Memory.load32(info + 48) & 0xFFFFFFFFL) + (Memory.load32(info + 44) & 0xFFFFFFFFL);
            end = mapEnd > end ? mapEnd : end;
        }
        if ((flags & FLAG_COMMAND_LINE) != 0) {
            long p = Memory.load32(info + 16) & 0xFFFFFFFFL;
            for (int i = 0; i < 4096 && Memory.load8(p) != 0; i++) {
                p++;
            }
            end = p + 1 > end ? p + 1 : end;
        }
        return end;
    }

    /**
     * Bytes of available RAM the last ramEnd call found: the sum of the map's available ranges
     * (mem_lower + mem_upper without a map). Differs from ramEnd whenever RAM has holes, as it
     * always has above 3 GiB on PCs, where the PCI hole moves RAM above 4 GiB.
     */
    public static long availableBytes() {
        return availableBytes;
    }

    public static int entries() {
        return entryCount;
    }

    public static boolean fromMap() {
        return mapUsed;
    }
}
