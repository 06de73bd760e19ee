package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The PC memory layout a multiboot kernel is told about, derived from the VM's RAM regions.
 *
 * <p>Usable: conventional memory below the EBDA, RAM from 1 MiB up to the MMIO hole, and RAM
 * above 4 GiB. Reserved (type 2): the EBDA (its last KiB of conventional memory) and
 * 0xE0000–0xFFFFF, where the ACPI tables and the BIOS area live. Multiboot 0.6.96 knows only
 * "available" and "reserved" (§3.3); the ACPI-reclaimable type 3 came later, so the ACPI area is
 * plain reserved, which also keeps a kernel from reusing it before it has read the tables.
 * 0xA0000–0xDFFFF (legacy VGA and option ROM window) is left out, as on real PCs.
 */
public final class PcMemoryMap {
    private PcMemoryMap() {}

    private static final long KIB = 1024;
    private static final long UPPER_MEMORY_START = 0x100000;

    private record Window(long start, long end) {}

    private static final List<Window> USABLE = List.of(
            new Window(0, GuestLayout.EBDA),
            new Window(GuestLayout.ACPI_END, GuestLayout.MMIO_HOLE_START),
            new Window(GuestLayout.MMIO_HOLE_END, Long.MAX_VALUE));

    /** The memory map, sorted by address. */
    public static List<MemoryMapEntry> entries(GuestMemory memory) {
        List<MemoryMapEntry> usable = new ArrayList<>();
        for (GuestMemory.Region region : memory.regions()) {
            for (Window w : USABLE) {
                long start = Math.max(region.base(), w.start());
                long end = Math.min(region.end(), w.end());
                if (start >= end) continue;
                MemoryMapEntry last = usable.isEmpty() ? null : usable.getLast();
                if (last != null && last.end() == start) {
                    usable.set(usable.size() - 1, new MemoryMapEntry(last.base(), end - last.base(), MemoryMapEntry.AVAILABLE));
                } else {
                    usable.add(new MemoryMapEntry(start, end - start, MemoryMapEntry.AVAILABLE));
                }
            }
        }
        List<MemoryMapEntry> all = new ArrayList<>(usable);
        all.add(new MemoryMapEntry(GuestLayout.EBDA, GuestLayout.CONVENTIONAL_END - GuestLayout.EBDA, MemoryMapEntry.RESERVED));
        all.add(new MemoryMapEntry(GuestLayout.ACPI_BASE, GuestLayout.ACPI_END - GuestLayout.ACPI_BASE, MemoryMapEntry.RESERVED));
        all.sort(Comparator.comparingLong(MemoryMapEntry::base));
        return List.copyOf(all);
    }

    /** §3.3 mem_lower: KiB of RAM from address 0, at most up to the EBDA (639 on a normal PC). */
    public static long memLowerKiB(GuestMemory memory) {
        return (contiguousEnd(memory, 0, GuestLayout.EBDA)) / KIB;
    }

    /** §3.3 mem_upper: KiB of RAM from 1 MiB up to the first hole (at most the MMIO hole). */
    public static long memUpperKiB(GuestMemory memory) {
        long end = contiguousEnd(memory, UPPER_MEMORY_START, GuestLayout.MMIO_HOLE_START);
        return (end - UPPER_MEMORY_START) / KIB;
    }

    /** The end of RAM that runs without a gap from {@code start}, clipped to {@code limit}. */
    private static long contiguousEnd(GuestMemory memory, long start, long limit) {
        long end = start;
        for (GuestMemory.Region region : memory.regions()) {
            if (region.base() <= end && region.end() > end) end = region.end();
        }
        return Math.min(end, limit);
    }
}
