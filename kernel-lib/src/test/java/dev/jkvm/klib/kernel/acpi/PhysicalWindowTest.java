package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The window's bounds check, exactly at its edges: every firmware pointer goes through it. */
class PhysicalWindowTest {
    private static final long SIZE = 4096;

    @Test
    void containsIsExactAtEveryEdge() {
        try (Arena arena = HostArena.ofConfined()) {
            PhysicalWindow.map(arena.allocate(SIZE, 4096).address(), SIZE);
            assertTrue(PhysicalWindow.contains(0, SIZE), "the whole window");
            assertTrue(PhysicalWindow.contains(SIZE - 4, 4), "the last four bytes");
            assertTrue(PhysicalWindow.contains(SIZE, 0), "an empty range at the end");
            assertFalse(PhysicalWindow.contains(1, SIZE), "one byte past the end");
            assertFalse(PhysicalWindow.contains(SIZE - 3, 4), "a u32 straddling the end");
            assertFalse(PhysicalWindow.contains(SIZE + 1, 0), "an empty range past the end");
            assertFalse(PhysicalWindow.contains(-1, 1), "a negative address");
            assertFalse(PhysicalWindow.contains(0, -1), "a negative length");
            assertFalse(PhysicalWindow.contains(8, Long.MAX_VALUE), "a length that overflows the sum");
            assertFalse(PhysicalWindow.contains(Long.MAX_VALUE, 2), "an address that overflows the sum");
        }
    }
}
