package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Identity-maps, on demand, the 2 MiB pages that hold firmware tables the boot page tables do
 * not cover: SeaBIOS puts its ACPI tables at the top of low RAM (at 2 GiB and more on q35 and pc
 * machines with much RAM), and an XSDT may point above 4 GiB. The page that holds a physical
 * address gets a 2 MiB PDE at the same virtual address (Intel SDM Vol. 3A 4.5, Table 4-18),
 * present and writable, in whatever tables CR3 points at; missing PDPT and PD pages come from a
 * small pool the kernel hands over. Entries already present (large or not) are left alone: every
 * mapping the kernel makes is an identity mapping, so they already map the address to itself.
 * Not-present entries are never cached (SDM 4.10.2.3), so a new mapping needs no flush; INVLPG
 * anyway for paging-structure caches.
 */
public final class DemandMapping {
    private DemandMapping() {
    }

    private static final long PRESENT = 1;
    private static final long WRITABLE = 1 << 1;
    private static final long LARGE = 1 << 7;
    private static final long ADDRESS_MASK = 0x000FFFFFFFFFF000L;
    private static final long PAGE = 4096;
    private static final int LARGE_SHIFT = 21;

    private static long poolNext;
    private static long poolEnd;
    /** The 2 MiB frame mapped last: tables are read byte by byte, mostly inside one frame. */
    private static long lastFrame = -1;
    private static int mappedFrames;

    /** Page-table pages for new mappings come from [start, start + pages * 4 KiB) (identity-mapped). */
    public static void usePool(long start, int pages) {
        poolNext = start;
        poolEnd = start + pages * PAGE;
        lastFrame = -1;
        mappedFrames = 0;
    }

    /** 2 MiB pages mapped so far. */
    public static int mappedFrames() {
        return mappedFrames;
    }

    /** Maps every 2 MiB page of [physical, physical + length); false when the pool ran out. */
    public static boolean ensureRange(long physical, long length) {
        long last = (physical + (length == 0 ? 0 : length - 1)) >>> LARGE_SHIFT;
        for (long frame = physical >>> LARGE_SHIFT; frame <= last; frame++) {
            if (!ensure(frame << LARGE_SHIFT)) {
                return false;
            }
        }
        return true;
    }

    /** Maps the 2 MiB page holding this physical address at the same virtual address. */
    public static boolean ensure(long physical) {
        long frame = physical >>> LARGE_SHIFT;
        if (frame == lastFrame) {
            return true;
        }
        long table = Cpu.readCr3() & ADDRESS_MASK;
        for (int shift = 39; shift > LARGE_SHIFT; shift -= 9) {
            long entry = table + ((physical >>> shift) & 511) * 8;
            long value = Memory.load64(entry);
            if ((value & PRESENT) == 0) {
                if (poolNext >= poolEnd) {
                    return false;
                }
                long page = poolNext;
                poolNext += PAGE;
                for (long i = 0; i < PAGE; i += 8) {
                    Memory.store64(page + i, 0);
                }
                value = page | PRESENT | WRITABLE;
                Memory.store64(entry, value);
            } else if ((value & LARGE) != 0) {
                lastFrame = frame;
                return true;
            }
            table = value & ADDRESS_MASK;
        }
        long entry = table + ((physical >>> LARGE_SHIFT) & 511) * 8;
        if ((Memory.load64(entry) & PRESENT) == 0) {
            Memory.store64(entry, (frame << LARGE_SHIFT) | PRESENT | WRITABLE | LARGE);
            Cpu.invlpg(frame << LARGE_SHIFT);
            mappedFrames++;
        }
        lastFrame = frame;
        return true;
    }
}
