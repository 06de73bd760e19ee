package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/** One guest-physical RAM range {@code [base, end)}, as the placement check sees guest memory. */
record RamRange(long base, long end) {
    private static final long PAGE = 4096;
    private static final long MAX_RAM = 1L << 51;

    /**
     * The RAM a VM of {@code memorySize} bytes has, computed the way
     * {@link dev.jkvm.vmm.memory.GuestRam#allocate} lays it out (whole pages, RAM above 3 GiB moved
     * above 4 GiB), so a kernel gets its verdict before any VM exists.
     */
    static List<RamRange> of(long memorySize) {
        // No VM has more than the 52-bit physical address space (Intel SDM Vol. 3A §4.1.4); a
        // larger request fails when the RAM is mapped, the placement answer is the same.
        long size = (Math.min(Math.max(memorySize, 0), MAX_RAM) + PAGE - 1) & -PAGE;
        long low = Math.min(size, GuestLayout.MMIO_HOLE_START);
        List<RamRange> list = new ArrayList<>();
        list.add(new RamRange(0, low));
        if (size > low) list.add(new RamRange(GuestLayout.MMIO_HOLE_END, GuestLayout.MMIO_HOLE_END + (size - low)));
        return List.copyOf(list);
    }

    /** The regions of an existing guest memory. */
    static List<RamRange> of(GuestMemory memory) {
        return memory.regions().stream().map(r -> new RamRange(r.base(), r.end())).toList();
    }

    /** True when the ranges cover {@code [start, end)} without a gap (adjacent ranges may share it). */
    static boolean covers(List<RamRange> ram, long start, long end) {
        long covered = start;
        for (RamRange r : ram) {
            if (r.base() <= covered && r.end() > covered) covered = r.end();
        }
        return covered >= end;
    }

    static long total(List<RamRange> ram) {
        long sum = 0;
        for (RamRange r : ram) sum += r.end() - r.base();
        return sum;
    }
}
