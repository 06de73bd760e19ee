package dev.jkvm.klib.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs PageTables.build on the host: the tables live in a native buffer (so "physical" table
 * addresses are host addresses) and a walk of the result, written here from the SDM's 4-level
 * format (Intel SDM Vol. 3A 4.5, Tables 4-15 to 4-20), checks the rights of each kind of page.
 */
class PageTablesTest {
    private static final long P = 1, W = 2, PCD = 1 << 4, PS = 1 << 7, NX = 1L << 63;
    private static final long IMAGE = 0x100000, TEXT = 0x101000, TEXT_END = 0x10b0f9, RODATA_END = 0x1128f8;
    private static final long GUARD = 0x118000;

    private Arena arena;

    @BeforeEach
    void setUp() {
        arena = HostArena.ofConfined();
        HostMemory.defineRoutines();
        HostMemory.defineLayout(arena, KernelLayout.IMAGE_START, IMAGE, KernelLayout.TEXT_START, TEXT,
                KernelLayout.TEXT_END, TEXT_END, KernelLayout.RODATA_END, RODATA_END);
        MemorySegment guards = arena.allocate(1 << 16, 4096);
        BootAllocator.init(guards.address(), guards.address() + guards.byteSize());
        BootAllocator.addGuard(GUARD);
        MemorySegment pool = arena.allocate(32 * 4096, 4096);
        PageTables.usePool(pool.address(), 32);
    }

    /** The final entry mapping va, with the large-page bit telling a 2 MiB leaf from a 4 KiB one. */
    private static long walk(long root, long va) {
        long table = root;
        for (int shift = 39; shift >= 12; shift -= 9) {
            long entry = Memory.load64(table + ((va >>> shift) & 511) * 8);
            if ((entry & P) == 0 || shift == 12 || (shift == 21 && (entry & PS) != 0)) {
                return entry;
            }
            table = entry & 0x000FFFFFFFFFF000L;
        }
        throw new AssertionError();
    }

    private static long rights(long entry) {
        return entry & (P | W | PCD | PS | NX);
    }

    @Test
    void imageSectionsGetTheirRightsAndGuardsAreUnmapped() {
        long root = PageTables.build(256L << 20, 4L << 20, true);
        assertEquals(0, walk(root, 0), "page 0 stays unmapped, so null dereferences fault");
        assertEquals(P | W, rights(walk(root, 0x8000)), "the AP trampoline page is executable");
        assertEquals(P | W | NX, rights(walk(root, 0x9000)));
        assertEquals(P | NX, rights(walk(root, IMAGE)), "headers");
        assertEquals(P, rights(walk(root, TEXT)), "text: read-only, executable");
        assertEquals(P, rights(walk(root, TEXT_END)), "the last text page");
        assertEquals(P | NX, rights(walk(root, 0x10c000)), "rodata");
        assertEquals(P | NX, rights(walk(root, RODATA_END)), "the last rodata page");
        assertEquals(P | W | NX, rights(walk(root, 0x113000)), "data");
        assertEquals(0, walk(root, GUARD), "stack guard page");
        assertEquals(P | W | NX, rights(walk(root, GUARD + 4096)), "the stack above it");
        assertEquals(0x3FF000, walk(root, 0x3FF123) & 0x000FFFFFFFFFF000L, "identity");
        assertEquals(P | W | PS | NX, rights(walk(root, 200L << 20)), "RAM beyond the fine map: 2 MiB pages");
        assertEquals(P | W | PS | NX | PCD, rights(walk(root, 0xFEE00000L)) & ~(1 << 3), "APIC window uncached");
        assertEquals(0xFEE00000L, walk(root, 0xFEE00000L) & 0x000FFFFFFFE00000L);
    }

    @Test
    void withoutNxNothingCarriesTheBit() {
        long root = PageTables.build(64L << 20, 2L << 20, false);
        assertEquals(0, walk(root, 0x10c000) & NX);
        assertEquals(P, rights(walk(root, 0x10c000)));
        assertEquals(P | W | PS, rights(walk(root, 100L << 20)));
    }

    @Test
    void mapAddsAndChangesOneTranslation() {
        long root = PageTables.build(64L << 20, 2L << 20, true);
        long va = 1L << 39;
        assertEquals(0, walk(root, va) & P);
        PageTables.map(va, 0x5000);
        assertEquals(0x5000 | P | W | NX, walk(root, va));
        PageTables.map(va, 0x6000);
        assertEquals(0x6000 | P | W | NX, walk(root, va));
    }
}
