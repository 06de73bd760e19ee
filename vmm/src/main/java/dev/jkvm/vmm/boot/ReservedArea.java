package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestLayout;

import java.util.List;

/**
 * A guest-physical range a kernel must not be loaded over: the VM fills it itself, or it is not
 * RAM on a PC at all.
 *
 * @param fix what to tell the user, after "; "
 */
record ReservedArea(String what, long start, long end, String fix) {
    private static final String LINK_AT_1_MIB = "link the kernel at or above 1 MiB (0x100000)";
    private static final String LINK_BELOW_3_GIB = "link the kernel below 3 GiB";
    private static final long PAGE = 4096;

    /** Below 1 MiB: what the VM writes before the kernel starts, and the legacy PC windows. */
    static final List<ReservedArea> LOW = List.of(
            new ReservedArea("the multiboot information area the VM writes", GuestLayout.BOOT_INFO, GuestLayout.BOOT_INFO_END, LINK_AT_1_MIB),
            new ReservedArea("the EBDA the VM writes", GuestLayout.EBDA, GuestLayout.CONVENTIONAL_END, LINK_AT_1_MIB),
            // Not RAM on a PC (legacy VGA frame buffer and option ROMs); the memory map leaves it out.
            new ReservedArea("the VGA and option ROM window (not RAM on a PC)", GuestLayout.CONVENTIONAL_END, GuestLayout.ACPI_BASE, LINK_AT_1_MIB),
            new ReservedArea("the BIOS/ACPI area holding the VM's ACPI tables", GuestLayout.ACPI_BASE, GuestLayout.ACPI_END, LINK_AT_1_MIB));

    /**
     * In the 3-4 GiB hole, named on their own because a kernel image that reaches them would
     * overwrite device registers on real hardware: the I/O APIC (82093AA datasheet, default base)
     * and local APIC (Intel SDM Vol. 3A "Local APIC Status and Location", IA32_APIC_BASE default) pages.
     */
    static final List<ReservedArea> HOLE = List.of(
            new ReservedArea("the I/O APIC registers", GuestLayout.IOAPIC_BASE, GuestLayout.IOAPIC_BASE + PAGE, LINK_BELOW_3_GIB),
            new ReservedArea("the local APIC registers", GuestLayout.LAPIC_BASE, GuestLayout.LAPIC_BASE + PAGE, LINK_BELOW_3_GIB),
            new ReservedArea("the PCI/MMIO hole (no RAM)", GuestLayout.MMIO_HOLE_START, GuestLayout.MMIO_HOLE_END,
                    LINK_BELOW_3_GIB));

    boolean overlaps(long otherStart, long otherEnd) {
        return otherStart < end && start < otherEnd;
    }

    static boolean anyOverlaps(long start, long end) {
        for (ReservedArea r : LOW) if (r.overlaps(start, end)) return true;
        for (ReservedArea r : HOLE) if (r.overlaps(start, end)) return true;
        return false;
    }
}
