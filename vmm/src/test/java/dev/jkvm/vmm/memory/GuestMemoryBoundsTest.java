package dev.jkvm.vmm.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;

import org.junit.jupiter.api.Test;

/** Guest-chosen addresses and lengths that would wrap a sum are refused, never turned into a host access. */
class GuestMemoryBoundsTest {
    @Test
    void rangesThatWouldWrapAreNotRam() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory memory = new GuestMemory();
            memory.addRegion(0x10000, arena.allocate(0x10000));
            assertTrue(memory.isRam(0x10000, 0x10000));
            assertTrue(memory.isRam(0x1FFFF, 1));
            assertFalse(memory.isRam(0x1FFFF, 2));
            assertFalse(memory.isRam(0x10000, Long.MAX_VALUE), "length that wraps gpa + length negative");
            assertFalse(memory.isRam(0x18000, Long.MAX_VALUE - 0x10000));
            assertFalse(memory.isRam(Long.MAX_VALUE, 2));
            assertFalse(memory.isRam(-1, 1), "2^64-1");
            assertFalse(memory.isRam(0x10000, -1));
            assertFalse(memory.isRam(0xFFFF, 1));
            assertThrows(GuestMemoryException.class, () -> memory.read(0x1FFF0, 0x20));
            assertThrows(GuestMemoryException.class, () -> memory.read(0x10000, -1));
            assertThrows(GuestMemoryException.class, () -> memory.fill(0x10000, Long.MIN_VALUE, (byte) 0));
            memory.write(0x1FFFC, new byte[] {1, 2, 3, 4});
            assertArrayEquals(new byte[] {1, 2, 3, 4}, memory.read(0x1FFFC, 4));
        }
    }
}
