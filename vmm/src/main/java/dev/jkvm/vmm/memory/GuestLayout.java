package dev.jkvm.vmm.memory;

/**
 * Guest-physical addresses the VMM places things at. One place for all of them so that the
 * loader, the ACPI builder and the VM agree, and so that a guest author can read where to look.
 */
public final class GuestLayout {
    private GuestLayout() {}

    /** Multiboot info, memory map, command line and boot loader name (below the kernel's reach). */
    public static final long BOOT_INFO = 0x9000;
    public static final long BOOT_INFO_END = 0x10000;

    /** Extended BIOS data area: the last KiB of conventional memory; its segment is stored at 0x40E. */
    public static final long EBDA = 0x9FC00;
    public static final long CONVENTIONAL_END = 0xA0000;

    /** ACPI 6.x §5.2.5.1: OSPM searches 0xE0000–0xFFFFF for the RSDP on 16-byte boundaries. */
    public static final long ACPI_BASE = 0xE0000;
    public static final long ACPI_END = 0x100000;

    /** Where multiboot kernels are usually linked. */
    public static final long KERNEL_DEFAULT = 0x100000;

    /** PCI/LAPIC hole: RAM above 3 GiB is moved above 4 GiB. */
    public static final long MMIO_HOLE_START = 0xC000_0000L;
    public static final long MMIO_HOLE_END = 0x1_0000_0000L;

    /** KVM API doc, KVM_SET_TSS_ADDR: three pages inside the hole, unused by the guest. */
    public static final long TSS_ADDR = 0xFFFB_D000L;
    /** KVM API doc, KVM_SET_IDENTITY_MAP_ADDR: one page just below the TSS pages. */
    public static final long IDENTITY_MAP_ADDR = 0xFFFB_C000L;

    /** Intel SDM Vol. 3 §10.4.1 default LAPIC base; 82093AA I/O APIC default base. */
    public static final long LAPIC_BASE = 0xFEE0_0000L;
    public static final long IOAPIC_BASE = 0xFEC0_0000L;
}
