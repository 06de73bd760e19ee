package dev.jkvm.klib.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    private static final long P = 1, W = 2, U = 4, PWT = 1 << 3, PCD = 1 << 4, PS = 1 << 7, NX = 1L << 63;
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

    /** The entry of the given level (shift 39, 30, 21 or 12) on the way to va, whatever its flags. */
    private static long levelEntry(long root, long va, int level) {
        long table = root;
        for (int shift = 39; ; shift -= 9) {
            long entry = Memory.load64(table + ((va >>> shift) & 511) * 8);
            if (shift == level) {
                return entry;
            }
            table = entry & 0x000FFFFFFFFFF000L;
        }
    }

    @Test
    void allowUserOpensOnePageAndEveryTableAboveIt() {
        long root = PageTables.build(64L << 20, 2L << 20, true);
        assertEquals(root, PageTables.root());
        assertEquals(NX, PageTables.noExecuteBit());
        PageTables.allowUser(0x9123, true, false);
        assertEquals(0x9000 | P | U | W | NX, walk(root, 0x9000), "rights replaced, address kept");
        for (int level = 39; level >= 21; level -= 9) {
            assertEquals(U, levelEntry(root, 0x9000, level) & U, "U/S at level " + level);
        }
        assertEquals(P | W | NX, rights(walk(root, 0xA000)), "the next page stays supervisor-only");
        assertEquals(0, walk(root, 0xA000) & U);

        PageTables.allowUser(TEXT, false, true);
        assertEquals(TEXT | P | U, walk(root, TEXT), "read-only and executable");
    }

    @Test
    void allowUserOnALargePageKeepsItsSizeAndCachingAndLeavesUnmappedAddressesAlone() {
        long root = PageTables.build(64L << 20, 2L << 20, true);
        PageTables.allowUser(0xFEE00000L, false, false);
        assertEquals(0xFEE00000L | P | U | PS | PCD | PWT | NX, walk(root, 0xFEE00000L));
        PageTables.allowUser(200L << 20, true, true);
        assertEquals((200L << 20) | P | U | W | PS, walk(root, 200L << 20));
        long va = 1L << 39;
        PageTables.allowUser(va, true, true);
        assertEquals(0, Memory.load64(root + 8), "no PML4 entry made for an unmapped address");
    }

    @Test
    void theMapEndsAtWholeGibibytesOfRamAboveFourAndTheApicWindowIsExact() {
        long root = PageTables.build(5L << 30, 4L << 20, true);
        assertEquals(P | W | PS | NX, rights(walk(root, (5L << 30) - (2 << 20))), "the last 2 MiB of 5 GiB");
        assertEquals(0, walk(root, 5L << 30) & P, "nothing past RAM's last whole GiB");
        assertEquals(P | W | PS | NX, rights(walk(root, 4L << 30)), "RAM at 4 GiB is cached");
        assertEquals(P | W | PS | NX, rights(walk(root, 0xFEA00000L)), "below the APIC window: cached");
        assertEquals(P | W | PS | NX | PCD, rights(walk(root, 0xFEC00000L)) & ~PWT, "the window's first 2 MiB");
        assertEquals(P | W | PS | NX, rights(walk(root, 4L << 20)), "the fine map ends at fineEnd");
        assertEquals(P | W | NX, rights(walk(root, (4L << 20) - 4096)));
    }

    @Test
    void anExhaustedPoolIsAPanicAndExactlyEnoughIsNot() {
        int[] panics = {0};
        dev.jkvm.klib.rt.Asm.hostDefine(MmPanic.SYMBOL, args -> {
            panics[0]++;
            throw new IllegalStateException("panic");
        });
        MemorySegment pool = arena.allocate(7 * 4096, 4096);
        PageTables.usePool(pool.address(), 7); // root, PDPT, four PDs, one page table
        PageTables.build(64L << 20, 2L << 20, false);
        assertEquals(0, panics[0]);
        PageTables.usePool(pool.address(), 6);
        assertThrows(IllegalStateException.class, () -> PageTables.build(64L << 20, 2L << 20, false));
        assertEquals(1, panics[0]);
    }
}
