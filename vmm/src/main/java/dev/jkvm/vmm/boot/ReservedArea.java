package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestLayout;

import java.util.List;

/** A guest-physical range the VM fills itself, so a kernel must not be loaded over it. */
record ReservedArea(String what, long start, long end) {
    static final List<ReservedArea> ALL = List.of(
            new ReservedArea("the multiboot information area", GuestLayout.BOOT_INFO, GuestLayout.BOOT_INFO_END),
            new ReservedArea("the EBDA and BIOS/ACPI area", GuestLayout.EBDA, GuestLayout.ACPI_END));

    boolean overlaps(long otherStart, long otherEnd) {
        return otherStart < end && start < otherEnd;
    }

    static boolean anyOverlaps(long start, long end) {
        for (ReservedArea r : ALL) if (r.overlaps(start, end)) return true;
        return false;
    }
}
