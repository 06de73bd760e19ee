package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DemandMapping and PhysicalWindow's on-demand mode on the host: the paging structures are host
 * memory, CR3 (simulated) points at an empty PML4, and the table pages come from a garbage-filled
 * pool, so each entry written can be walked and checked (Intel SDM Vol. 3A 4.5: PML4E and PDPTE
 * by address bits 47:39 and 38:30, a 2 MiB PDE, bit 7 set, by bits 29:21; present bit 0,
 * writable bit 1). Until this test DemandMapping ran only in a booting guest.
 */
class DemandMappingTest {
    private static final long P = 1;
    private static final long W = 2;
    private static final long PS = 1 << 7;
    private static final long MASK = 0x000FFFFFFFFFF000L;
    /** Spans PML4 entry 3, PDPT entry 5, PD entries 7 and 8. */
    private static final long ADDRESS = 3L << 39 | 5L << 30 | 7L << 21 | 0x1234;

    private long pml4;
    private long pool;
    private long savedCr3;

    @BeforeEach
    void setUp() {
        savedCr3 = Cpu.readCr3();
        pml4 = HostArena.global().allocate(4096, 4096).fill((byte) 0).address();
        pool = HostArena.global().allocate(8 * 4096, 4096).fill((byte) 0xA5).address();
        Cpu.writeCr3(pml4 | 0x18); // PWT and PCD set: CR3's low bits are no part of the address
        Console.hostClear();
    }

    @AfterEach
    void tearDown() {
        Cpu.writeCr3(savedCr3);
        PhysicalWindow.map(0, 0);
    }

    private static long entry(long table, long physical, int shift) {
        return Memory.load64(table + ((physical >>> shift) & 511) * 8);
    }

    @Test
    void aFirstMappingTakesAPdptAndAPdFromThePoolZeroedAndMapsTheTwoMegabytePage() {
        DemandMapping.usePool(pool, 8);
        assertTrue(DemandMapping.ensure(ADDRESS));

        assertEquals(pool | P | W, entry(pml4, ADDRESS, 39));
        assertEquals((pool + 4096) | P | W, entry(pool, ADDRESS, 30));
        assertEquals((ADDRESS & ~0x1FFFFFL) | P | W | PS, entry(pool + 4096, ADDRESS, 21));
        assertEquals(1, DemandMapping.mappedFrames());
        for (long i = 0; i < 4096; i += 8) {
            if (i != 5 * 8) {
                assertEquals(0, Memory.load64(pool + i), "new PDPT zeroed at " + i);
            }
            if (i != 7 * 8) {
                assertEquals(0, Memory.load64(pool + 4096 + i), "new PD zeroed at " + i);
            }
        }
        assertEquals(0xA5A5A5A5A5A5A5A5L, Memory.load64(pool + 2 * 4096), "only two pool pages taken");

        assertTrue(DemandMapping.ensure(ADDRESS + 0x1000), "the same 2 MiB page");
        assertTrue(DemandMapping.ensure(ADDRESS + (1 << 21)), "the next one, in the same PD");
        assertEquals(2, DemandMapping.mappedFrames());
        assertEquals(((ADDRESS >>> 21) + 1 << 21) | P | W | PS, entry(pool + 4096, ADDRESS + (1 << 21), 21));
        assertEquals(0xA5A5A5A5A5A5A5A5L, Memory.load64(pool + 2 * 4096), "no new table for it");
        assertTrue(DemandMapping.ensure(ADDRESS), "back to the first page: already mapped");
        assertEquals(2, DemandMapping.mappedFrames());
    }

    @Test
    void presentEntriesAreLeftAloneLargeOnesEndTheWalk() {
        DemandMapping.usePool(pool, 8);
        long pdpt = HostArena.global().allocate(4096, 4096).fill((byte) 0).address();
        Memory.store64(pml4 + 3 * 8, pdpt | P | W);
        Memory.store64(pdpt + 5 * 8, (5L << 30) | P | W | PS); // a 1 GiB page
        assertTrue(DemandMapping.ensure(ADDRESS));
        assertEquals(0, DemandMapping.mappedFrames());
        assertEquals(0xA5A5A5A5A5A5A5A5L, Memory.load64(pool), "no pool page taken");

        long pd = HostArena.global().allocate(4096, 4096).fill((byte) 0).address();
        Memory.store64(pdpt + 5 * 8, pd | P | W);
        Memory.store64(pd + 7 * 8, 0x1234_5000L | P); // present, whatever it maps
        DemandMapping.usePool(pool, 8);
        assertTrue(DemandMapping.ensure(ADDRESS));
        assertEquals(0x1234_5000L | P, Memory.load64(pd + 7 * 8), "a present PDE is not replaced");
        assertEquals(0, DemandMapping.mappedFrames());
        assertTrue(DemandMapping.ensure(ADDRESS + (1 << 21)));
        assertEquals(((ADDRESS >>> 21) + 1 << 21) | P | W | PS, Memory.load64(pd + 8 * 8));
        assertEquals(1, DemandMapping.mappedFrames());
    }

    @Test
    void anEmptyPoolRefusesAndExactlyEnoughSucceeds() {
        DemandMapping.usePool(pool, 1);
        assertFalse(DemandMapping.ensure(ADDRESS), "a PDPT and a PD needed, one page there");
        assertEquals(0, DemandMapping.mappedFrames());
        Memory.store64(pml4 + 3 * 8, 0);
        DemandMapping.usePool(pool, 2);
        assertTrue(DemandMapping.ensure(ADDRESS));
        assertFalse(DemandMapping.ensure(1L << 39), "another PML4 entry: the pool is used up");
    }

    @Test
    void aRangeMapsEveryTwoMegabytePageItTouchesAndNoMore() {
        DemandMapping.usePool(pool, 8);
        long frame = ADDRESS & ~0x1FFFFFL;
        assertTrue(DemandMapping.ensureRange(frame, 2 << 20));
        assertEquals(1, DemandMapping.mappedFrames(), "exactly one page: the range ends at its end");
        assertTrue(DemandMapping.ensureRange(frame + (1 << 21) - 1, 2));
        assertEquals(2, DemandMapping.mappedFrames(), "two bytes across the boundary");
        assertTrue(DemandMapping.ensureRange(frame + (5L << 21), 0));
        assertEquals(3, DemandMapping.mappedFrames(), "an empty range still maps its page");
        assertEquals(0, entry(pool + 4096, frame + (2L << 21), 21), "the page after the second is not mapped");
        DemandMapping.usePool(pool + 6 * 4096, 1);
        assertFalse(DemandMapping.ensureRange(1L << 39, 4 << 20), "out of pool on the way");
    }

    /** A fresh, empty PML4 in CR3, so earlier mappings do not count. */
    private void freshTables() {
        pml4 = HostArena.global().allocate(4096, 4096).fill((byte) 0).address();
        Cpu.writeCr3(pml4);
    }

    @Test
    void theWindowMapsBothPagesOfAReadAcrossTheirBoundaryAndNothingForOneEndingAtTheMappedEnd() {
        long boundary = HostArena.global().allocate(4 << 20, 2 << 20).address() + (2 << 20);
        PhysicalWindow.mapOnDemand(boundary + 2, 47, pool, 8);
        PhysicalWindow.u16(boundary);
        assertTrue(PhysicalWindow.contains(boundary, 2));
        assertEquals(0, DemandMapping.mappedFrames(), "the read ends exactly at the mapped end");

        freshTables();
        PhysicalWindow.mapOnDemand(boundary + 1, 47, pool, 8);
        PhysicalWindow.u32(boundary - 2);
        assertEquals(2, DemandMapping.mappedFrames(), "its first byte's page and its last byte's");

        freshTables();
        PhysicalWindow.mapOnDemand(boundary + 1, 47, pool, 8);
        assertTrue(PhysicalWindow.contains(boundary - 2, 4));
        assertEquals(2, DemandMapping.mappedFrames());
    }

    @Test
    void theOnDemandWindowMapsWhatItReadsBeyondTheMappedEnd() {
        MemorySegment table = HostArena.global().allocate(64, 8);
        table.set(java.lang.foreign.ValueLayout.JAVA_INT, 8, 0x11223344);
        long physical = table.address();
        PhysicalWindow.mapOnDemand(physical, 52, pool, 8);
        assertEquals(1L << 47, PhysicalWindow.size(), "at most 47 bits");
        assertEquals(0x11223344, PhysicalWindow.u32(physical + 8));
        assertTrue(DemandMapping.mappedFrames() >= 1, "read above the mapped end: mapped first");
        long pdpt = entry(pml4, physical, 39) & MASK;
        long pd = entry(pdpt, physical, 30) & MASK;
        assertEquals(((physical + 8) & ~0x1FFFFFL) | P | W | PS, entry(pd, physical + 8, 21));
        assertTrue(PhysicalWindow.contains(physical, 64));
        assertFalse(PhysicalWindow.contains((1L << 47) - 4, 8), "past the physical address space");
        PhysicalWindow.printOutside();
        assertEquals("beyond the CPU's physical address space (which ends at 0x0000800000000000) or where no page"
                + " table was left to map it", Console.hostOutput());

        PhysicalWindow.mapOnDemand(physical + 64, 39, pool, 8);
        assertEquals(1L << 39, PhysicalWindow.size());
        assertEquals(0x11223344, PhysicalWindow.u32(physical + 8));
        assertEquals(0, DemandMapping.mappedFrames(), "below the mapped end nothing is mapped");
    }
}
