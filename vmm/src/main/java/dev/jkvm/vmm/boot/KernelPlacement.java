package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.hex;

import dev.jkvm.vmm.memory.GuestLayout;

import java.util.List;

/**
 * Where a kernel may go in a VM: every segment in RAM, none over an area the VM reserves or that
 * is not RAM on a PC. A function of the load plan and the RAM layout only, so the launcher can
 * give its verdict before any accelerator is opened and the loader gives the same one later.
 */
final class KernelPlacement {
    private KernelPlacement() {}

    private static final long MIB = 1 << 20;

    /**
     * Refuses segments over reserved areas, in the PCI/MMIO hole, or outside RAM. Of several
     * segments outside RAM the highest one is named, so the memory size it asks for is enough for all.
     */
    static void check(String name, List<LoadSegment> segments, List<RamRange> ram) {
        LoadSegment highestOutside = null;
        for (LoadSegment s : segments) {
            refuseOver(name, s, ReservedArea.LOW);
            refuseOver(name, s, ReservedArea.HOLE);
            if (!RamRange.covers(ram, s.address(), s.end()) && (highestOutside == null || s.end() > highestOutside.end())) {
                highestOutside = s;
            }
        }
        if (highestOutside == null) return;
        LoadSegment s = highestOutside;
        long ramMiB = RamRange.total(ram) / MIB;
        // RAM above 3 GiB is moved above 4 GiB, so an address up there needs 1 GiB less RAM than its value.
        long neededBytes = s.end() <= GuestLayout.MMIO_HOLE_START ? s.end()
                : s.end() - (GuestLayout.MMIO_HOLE_END - GuestLayout.MMIO_HOLE_START);
        long neededMiB = (neededBytes + MIB - 1) / MIB;
        String prefix = name + ": " + s.name() + " " + s.range() + " lies outside guest RAM (" + ramMiB + " MiB)";
        if (neededMiB > ramMiB) {
            throw new MultibootException(prefix + ": needs at least " + neededMiB + " MiB of guest memory; use --memory");
        }
        throw new MultibootException(prefix + ": that range is not backed by a RAM region; link the kernel at 1 MiB");
    }

    private static void refuseOver(String name, LoadSegment s, List<ReservedArea> areas) {
        for (ReservedArea r : areas) {
            if (s.overlaps(r.start(), r.end())) {
                throw new MultibootException(name + ": " + s.name() + " " + s.range() + " overlaps " + r.what() + " ["
                        + hex(r.start()) + ", " + hex(r.end()) + "); " + r.fix());
            }
        }
    }
}
