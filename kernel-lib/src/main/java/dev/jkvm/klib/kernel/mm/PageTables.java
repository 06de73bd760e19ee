package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel's own 4-level page tables (Intel SDM Vol. 3A 4.5), identity-mapping physical memory.
 * Everything beyond the kernel's area uses 2 MiB pages, writable and (with NX) not executable;
 * the local and I/O APIC window is uncached. The first 2 MiB chunks up to fineEnd use 4 KiB
 * pages so the image gets per-section rights: text read-only and executable, rodata read-only,
 * data and bss writable; page 0 and every stack guard page are not present. The AP trampoline's
 * page is the only executable page below 1 MiB.
 */
public final class PageTables {
    private PageTables() {
    }

    public static final long PRESENT = 1;
    public static final long WRITABLE = 1 << 1;
    public static final long USER = 1 << 2;
    public static final long WRITE_THROUGH = 1 << 3;
    public static final long CACHE_DISABLE = 1 << 4;
    public static final long LARGE = 1 << 7;
    public static final long NO_EXECUTE = 1L << 63;
    public static final long ADDRESS_MASK = 0x000FFFFFFFFFF000L;
    private static final long APIC_WINDOW_START = 0xFEC00000L;
    private static final long APIC_WINDOW_END = 0x100000000L;
    private static final long GIB = 1L << 30;
    private static final long TWO_MIB = 1L << 21;

    private static long pool;
    private static long poolEnd;
    private static long rootTable;
    private static long nx;

    /** Page-table pages come from this range (allocated before the map is built). */
    public static void usePool(long start, long pages) {
        pool = start;
        poolEnd = start + pages * BootAllocator.PAGE;
    }

    private static long table() {
        if (pool >= poolEnd) {
            Console.print("page tables: pool exhausted\n");
            MmPanic.halt();
        }
        long page = pool;
        pool += BootAllocator.PAGE;
        Asm.call("kernel_memzero", page, BootAllocator.PAGE);
        return page;
    }

    public static long noExecuteBit() {
        return nx;
    }

    /** Builds the map; returns the PML4 address to load into CR3. */
    public static long build(long ramEnd, long fineEnd, boolean noExecute) {
        nx = noExecute ? NO_EXECUTE : 0;
        rootTable = table();
        long pdpt = table();
        Memory.store64(rootTable, pdpt | PRESENT | WRITABLE);
        long mapped = ramEnd > APIC_WINDOW_END ? ramEnd : APIC_WINDOW_END;
        long gibs = (mapped + GIB - 1) / GIB;
        if (gibs > 512) {
            gibs = 512;
        }
        for (long g = 0; g < gibs; g++) {
            long pd = table();
            Memory.store64(pdpt + g * 8, pd | PRESENT | WRITABLE);
            for (long i = 0; i < 512; i++) {
                long physical = g * GIB + i * TWO_MIB;
                long flags = PRESENT | WRITABLE | LARGE | nx;
                if (physical >= APIC_WINDOW_START && physical < APIC_WINDOW_END) {
                    flags |= CACHE_DISABLE | WRITE_THROUGH;
                }
                Memory.store64(pd + i * 8, physical | flags);
            }
        }
        long pd0 = Memory.load64(pdpt) & ADDRESS_MASK;
        long imageStart = KernelLayout.get(KernelLayout.IMAGE_START);
        long textStart = KernelLayout.get(KernelLayout.TEXT_START);
        long textEnd = BootAllocator.alignUp(KernelLayout.get(KernelLayout.TEXT_END), BootAllocator.PAGE);
        long rodataEnd = BootAllocator.alignUp(KernelLayout.get(KernelLayout.RODATA_END), BootAllocator.PAGE);
        for (long chunk = 0; chunk * TWO_MIB < fineEnd; chunk++) {
            long pt = table();
            for (long i = 0; i < 512; i++) {
                long physical = chunk * TWO_MIB + i * BootAllocator.PAGE;
                long flags;
                if (physical == 0) {
                    flags = 0;
                } else if (physical == TrampolineParameters.ADDRESS) {
                    flags = PRESENT | WRITABLE;
                } else if (physical < imageStart) {
                    flags = PRESENT | WRITABLE | nx;
                } else if (physical < textStart) {
                    flags = PRESENT | nx;
                } else if (physical < textEnd) {
                    flags = PRESENT;
                } else if (physical < rodataEnd) {
                    flags = PRESENT | nx;
                } else {
                    flags = PRESENT | WRITABLE | nx;
                }
                Memory.store64(pt + i * 8, flags == 0 ? 0 : physical | flags);
            }
            Memory.store64(pd0 + chunk * 8, pt | PRESENT | WRITABLE);
        }
        for (int g = 0; g < BootAllocator.guardCount(); g++) {
            long entry = entryFor(BootAllocator.guard(g), false);
            if (entry != 0) {
                Memory.store64(entry, 0);
            }
        }
        return rootTable;
    }

    public static long root() {
        return rootTable;
    }

    /**
     * Address of the page-table entry mapping the 4 KiB page at virtual address va, creating
     * missing tables when create is set; 0 when a level is missing or maps a large page.
     */
    public static long entryFor(long va, boolean create) {
        long table = rootTable;
        for (int shift = 39; shift > 12; shift -= 9) {
            long entry = table + ((va >>> shift) & 511) * 8;
            long value = Memory.load64(entry);
            if ((value & PRESENT) == 0) {
                if (!create) {
                    return 0;
                }
                long next = table();
                Memory.store64(entry, next | PRESENT | WRITABLE);
                value = next | PRESENT | WRITABLE;
            } else if ((value & LARGE) != 0) {
                return 0;
            }
            table = value & ADDRESS_MASK;
        }
        return table + ((va >>> 12) & 511) * 8;
    }

    /**
     * Opens the page mapping va (a 4 KiB page, or the 2 MiB page containing it) to user mode
     * with the given rights, setting U/S on every table entry above it too: user access needs
     * U/S at every level (Intel SDM Vol. 3A 4.6.1), so pages whose own entry keeps U/S clear stay
     * supervisor-only. Unmapped addresses are left alone. The caller flushes TLBs.
     */
    public static void allowUser(long va, boolean writable, boolean executable) {
        long table = rootTable;
        for (int shift = 39; shift >= 12; shift -= 9) {
            long entry = table + ((va >>> shift) & 511) * 8;
            long value = Memory.load64(entry);
            if ((value & PRESENT) == 0) {
                return;
            }
            if (shift == 12 || (value & LARGE) != 0) {
                long rights = PRESENT | USER | (writable ? WRITABLE : 0) | (executable ? 0 : nx);
                Memory.store64(entry, (value & (ADDRESS_MASK | LARGE | CACHE_DISABLE | WRITE_THROUGH)) | rights);
                return;
            }
            Memory.store64(entry, value | USER);
            table = value & ADDRESS_MASK;
        }
    }

    /** Maps (or remaps) one 4 KiB page, writable and not executable. The caller flushes TLBs. */
    public static void map(long va, long physical) {
        Memory.store64(entryFor(va, true), physical | PRESENT | WRITABLE | nx);
    }
}
