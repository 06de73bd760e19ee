package dev.jkvm.klib.kernel.acpi;

/**
 * Defects ACPI discovery found, as bits of Topology.defects, with the policy applied to each.
 * Every defect is also reported as one Console line naming the table and the problem.
 */
public final class Defect {
    private Defect() {
    }

    /** No RSDP with a valid checksum in the EBDA or 0xE0000–0xFFFFF. Policy: uniprocessor. */
    public static final int NO_RSDP = 1;
    /** Neither the XSDT nor the RSDT passed its checks. Policy: uniprocessor. */
    public static final int NO_ROOT_TABLE = 1 << 1;
    /** No valid "APIC" table listed (missing, outside memory, bad length or checksum). Policy: uniprocessor. */
    public static final int NO_MADT = 1 << 2;
    /** MADT shorter than its 44-byte header (§5.2.12). Policy: uniprocessor. */
    public static final int MADT_TOO_SHORT = 1 << 3;
    /**
     * An entry with length below 2, which cannot be stepped over, or one (or a stray byte
     * where an entry header should start) that runs past the table's end. Policy: keep the entries before it, ignore it and the rest of the table.
     */
    public static final int ENTRY_BREAKS_TABLE = 1 << 4;
    /** A known entry type shorter than its structure. Policy: skip that entry (its length is usable). */
    public static final int ENTRY_TRUNCATED = 1 << 5;
    /**
     * A known entry type longer than its structure. Policy: use the defined fields, step over the
     * declared length (later ACPI revisions only append fields).
     */
    public static final int ENTRY_OVERLONG = 1 << 6;
    /** Two usable processors with one APIC ID, or an ID that cannot name one CPU (0xFF, 0xFFFFFFFF). Policy: keep the first, ignore the later entry. */
    public static final int BAD_APIC_ID = 1 << 7;
    /** More processors, I/O APICs, overrides or NMI entries than the caller's capacities. Policy: keep the first ones. */
    public static final int CAPACITY_EXCEEDED = 1 << 8;
    /** The boot CPU's entry is marked neither enabled nor online-capable. Policy: treat it as enabled (it is running). */
    public static final int BSP_MARKED_DISABLED = 1 << 9;
    /** The MADT does not list the boot CPU: it does not describe this machine. Policy: uniprocessor. */
    public static final int BSP_NOT_LISTED = 1 << 10;
    /** No enabled processor besides the boot CPU. Policy: uniprocessor (not a table defect on a one-CPU machine). */
    public static final int NO_ENABLED_AP = 1 << 11;
    /** The MADT lists no I/O APIC. Policy: processors are still used; interrupts need the 8259 PICs. */
    public static final int NO_IO_APIC = 1 << 12;
    /** Defects that make the MADT untrustworthy: the topology is reset to the boot CPU alone. */
    public static final int UNTRUSTED = NO_RSDP | NO_ROOT_TABLE | NO_MADT | MADT_TOO_SHORT | BSP_NOT_LISTED;
    /** Defects that do not change the outcome. */
    public static final int INFORMATIONAL = NO_ENABLED_AP | NO_IO_APIC;
}
