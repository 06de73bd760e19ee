package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The paging modes no test guest uses (32-bit with and without 4 MiB pages, PAE), with tables
 * written as Intel SDM Vol. 3 §4.3 and §4.4 lay them out. 4-level paging is covered by the
 * long-mode guests' crash reports.
 */
class GuestPageWalkerTest {
    static final long CR0_PE_PG = 0x8000_0001L;
    static final long CR4_PSE = 1 << 4;
    static final long CR4_PAE = 1 << 5;

    @Test
    void thirtyTwoBitPagingWith4KiBAnd4MiBPages() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = new GuestMemory();
            mem.addRegion(0, arena.allocate(16 << 20, 4096));
            // PD at 0x1000. Linear 0x00400000-0x007FFFFF (PDE 1) → page table at 0x2000;
            // its PTE 3 maps linear 0x00403000 → physical 0x00A05000.
            mem.write32(0x1000 + 1 * 4, 0x2000 | 0x3);
            mem.write32(0x2000 + 3 * 4, 0xA05000 | 0x3);
            // PDE 2 is a 4 MiB page (PS) at physical 0x00C00000 for linear 0x00800000.
            mem.write32(0x1000 + 2 * 4, 0xC00000 | 0x83);
            mem.write32(0xA05123, 0xDEADBEEF);

            GuestPageWalker w = new GuestPageWalker(mem, CR0_PE_PG, 0x1000, CR4_PSE, 0);
            assertEquals("32-bit paging", w.mode());
            assertEquals(0xA05123, w.translate(0x403123));
            assertEquals(0xC12345, w.translate(0x812345));
            assertEquals(GuestPageWalker.UNMAPPED, w.translate(0x404000));
            assertEquals(GuestPageWalker.UNMAPPED, w.translate(0x0));
            assertArrayEquals(new byte[] {(byte) 0xEF, (byte) 0xBE, (byte) 0xAD, (byte) 0xDE}, w.readLinear(0x403123, 4));
            // The read stops where the mapping ends (the next page is not present).
            assertEquals(2, w.readLinear(0x403FFE, 4).length);
        }
    }

    @Test
    void paePagingWith2MiBAnd4KiBPages() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = new GuestMemory();
            mem.addRegion(0, arena.allocate(16 << 20, 4096));
            // PDPT at 0x1020 (32-byte aligned, §4.4.1); PDPTE 1 (linear 1-2 GiB) → PD at 0x3000.
            mem.write64(0x1020 + 1 * 8, 0x3000 | 0x1);
            // PDE 5 is a 2 MiB page at physical 0x00E00000 → linear 0x40A00000.
            mem.write64(0x3000 + 5 * 8, 0xE00000 | 0x83);
            // PDE 6 → page table at 0x4000; PTE 7 maps linear 0x40C07000 → physical 0x00B00000.
            mem.write64(0x3000 + 6 * 8, 0x4000 | 0x3);
            mem.write64(0x4000 + 7 * 8, 0xB00000 | 0x3);

            GuestPageWalker w = new GuestPageWalker(mem, CR0_PE_PG, 0x1020, CR4_PAE, 0);
            assertEquals("PAE paging", w.mode());
            assertEquals(0xE1_2345, w.translate(0x40A1_2345L));
            assertEquals(0xB0_0ABC, w.translate(0x40C0_7ABCL));
            assertEquals(GuestPageWalker.UNMAPPED, w.translate(0x0000_1000L));
        }
    }

    @Test
    void pagingOffIsIdentityOnTheLow32Bits() {
        GuestPageWalker w = new GuestPageWalker(new GuestMemory(), 0x11, 0, 0, 0);
        assertEquals("paging off", w.mode());
        assertEquals(0xFFFF_FFF0L, w.translate(0xFFFF_FFF0L));
    }
}
