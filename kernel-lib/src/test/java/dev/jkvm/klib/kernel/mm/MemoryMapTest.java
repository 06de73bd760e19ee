package dev.jkvm.klib.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** MemoryMap on multiboot information laid out here from Multiboot 0.6.96 §3.3. */
class MemoryMapTest {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    @Test
    void highestAvailableRangeOfTheMapWinsAndBootDataEndCoversMapAndCommandLine() {
        {
            MemorySegment low = HostMemory.below4GiB(4096);
            MemorySegment info = low.asSlice(0, 88);
            MemorySegment map = low.asSlice(128, 3 * 24);
            long[][] ranges = {{0, 0x9FC00, 1}, {0x100000, 0x7F00000, 1}, {0xFFFC0000L, 0x40000, 2}};
            for (int i = 0; i < ranges.length; i++) {
                long e = i * 24L;
                map.set(U32, e, 20);
                map.set(U64, e + 4, ranges[i][0]);
                map.set(U64, e + 12, ranges[i][1]);
                map.set(U32, e + 20, (int) ranges[i][2]);
            }
            MemorySegment cmdline = low.asSlice(1024, 64);
            cmdline.setString(0, "test=panic", StandardCharsets.US_ASCII);
            info.set(U32, 0, 1 | 1 << 2 | 1 << 6);
            info.set(U32, 8, 12345);
            info.set(U32, 16, (int) cmdline.address());
            info.set(U32, 44, (int) map.byteSize());
            info.set(U32, 48, (int) map.address());
            assertEquals(0x8000000L, MemoryMap.ramEnd(info.address()), "end of the highest type-1 range");
            assertEquals(3, MemoryMap.entries());
            assertTrue(MemoryMap.fromMap());
            long end = MemoryMap.endOfBootData(info.address());
            assertTrue(end >= map.address() + map.byteSize() && end >= cmdline.address() + 11, "covers map and command line");
        }
    }

    @Test
    void withoutAMapMemUpperCounts() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment info = arena.allocate(88, 8);
            info.set(U32, 0, 1);
            info.set(U32, 8, 64 * 1024 - 1024);
            assertEquals(64L << 20, MemoryMap.ramEnd(info.address()));
            assertEquals(false, MemoryMap.fromMap());
        }
    }
}
