package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * ACPI 6.5 §5.2.12 Multiple APIC Description Table: walks its interrupt controller structures
 * and records them in a Topology. The table itself must already have passed
 * SdtHeader.isValid (signature, length, checksum).
 *
 * Per-entry policy (see Defect for the bits): an entry whose length is below 2 cannot be stepped
 * over and one running past the table end has no trustworthy end, so both stop the walk and keep
 * what came before; a known type shorter than its structure is skipped; a longer one is used
 * (ACPI only ever appends fields); unknown types (GIC structures, OEM types 0x80–0xFF, future
 * types) are stepped over by their length without comment, as §5.2.12 asks of OSPM.
 * Processor entries with neither enabled nor online-capable set are unusable (§5.2.12.2) and
 * only counted.
 */
public final class Madt {
    private Madt() {
    }

    /** Whether the MADT being parsed has described the boot CPU yet. */
    private static boolean bootCpuListed;

    static final int OFFSET_LAPIC_ADDRESS = 36;
    static final int OFFSET_FLAGS = 40;
    /** First interrupt controller structure. */
    static final int OFFSET_ENTRIES = 44;

    /** §5.2.12 Table 5.21 interrupt controller structure types and their lengths. */
    public static final int TYPE_LOCAL_APIC = 0;
    public static final int TYPE_IO_APIC = 1;
    public static final int TYPE_INTERRUPT_SOURCE_OVERRIDE = 2;
    public static final int TYPE_NMI_SOURCE = 3;
    public static final int TYPE_LOCAL_APIC_NMI = 4;
    public static final int TYPE_LOCAL_APIC_ADDRESS_OVERRIDE = 5;
    public static final int TYPE_LOCAL_X2APIC = 9;
    public static final int TYPE_LOCAL_X2APIC_NMI = 0xA;

    static final int LENGTH_LOCAL_APIC = 8;
    static final int LENGTH_IO_APIC = 12;
    static final int LENGTH_INTERRUPT_SOURCE_OVERRIDE = 10;
    static final int LENGTH_NMI_SOURCE = 8;
    static final int LENGTH_LOCAL_APIC_NMI = 6;
    static final int LENGTH_LOCAL_APIC_ADDRESS_OVERRIDE = 12;
    static final int LENGTH_LOCAL_X2APIC = 16;
    static final int LENGTH_LOCAL_X2APIC_NMI = 12;

    /** §5.2.12.2 Local APIC flags (the x2APIC structure uses the same bits, §5.2.12.12). */
    static final int FLAG_ENABLED = 1;
    static final int FLAG_ONLINE_CAPABLE = 2;

    /** xAPIC ID 0xFF is the broadcast address, and x2APIC ID 0xFFFFFFFF likewise (Intel SDM Vol. 3 §11.6.1, §11.12.9). */
    static final int XAPIC_BROADCAST = 0xFF;
    static final int X2APIC_BROADCAST = -1;

    /**
     * Records every entry of the MADT at physical address {@code madt} in the topology at
     * {@code topology}, which resetToBootCpu has prepared. Adds defect bits; leaves the outcome
     * to the caller. Returns whether an entry described the boot CPU.
     */
    public static boolean parse(long madt, long topology) {
        bootCpuListed = false;
        long length = SdtHeader.length(madt);
        if (length < OFFSET_ENTRIES) {
            Console.print("acpi: MADT is ");
            Console.printHex(length);
            Console.print(" bytes, shorter than its 44-byte header; not trusting it\n");
            Topology.addDefect(topology, Defect.MADT_TOO_SHORT);
            return false;
        }
        Topology.setLapicAddress(topology, PhysicalWindow.u32Unsigned(madt + OFFSET_LAPIC_ADDRESS));
        Topology.setMadtFlags(topology, PhysicalWindow.u32(madt + OFFSET_FLAGS));
        long offset = OFFSET_ENTRIES;
        while (offset < length) {
            if (length - offset < 2) {
                reportEntry(offset);
                Console.print(" is a stray byte after the last entry; ignoring it\n");
                Topology.addDefect(topology, Defect.ENTRY_BREAKS_TABLE);
                return bootCpuListed;
            }
            int type = PhysicalWindow.u8(madt + offset);
            int entryLength = PhysicalWindow.u8(madt + offset + 1);
            if (entryLength < 2) {
                reportEntry(offset);
                Console.print(" has length ");
                Console.printHex(entryLength);
                Console.print("; ignoring the rest of the table\n");
                Topology.addDefect(topology, Defect.ENTRY_BREAKS_TABLE);
                return bootCpuListed;
            }
            if (entryLength > length - offset) {
                reportEntry(offset);
                Console.print(" (type ");
                Console.printHex(type);
                Console.print(", length ");
                Console.printHex(entryLength);
                Console.print(") runs past the end of the table; ignoring it\n");
                Topology.addDefect(topology, Defect.ENTRY_BREAKS_TABLE);
                return bootCpuListed;
            }
            int required = requiredLength(type);
            if (required == 0) {
                Topology.increment(topology, Topology.OFFSET_UNKNOWN_ENTRY_COUNT);
            } else if (entryLength < required) {
                reportEntry(offset);
                Console.print(" of type ");
                Console.printHex(type);
                Console.print(" is truncated (length ");
                Console.printHex(entryLength);
                Console.print(", needs ");
                Console.printHex(required);
                Console.print("); skipping it\n");
                Topology.addDefect(topology, Defect.ENTRY_TRUNCATED);
            } else {
                if (entryLength > required) {
                    reportEntry(offset);
                    Console.print(" of type ");
                    Console.printHex(type);
                    Console.print(" is overlong (length ");
                    Console.printHex(entryLength);
                    Console.print(", defined as ");
                    Console.printHex(required);
                    Console.print("); using its defined fields\n");
                    Topology.addDefect(topology, Defect.ENTRY_OVERLONG);
                }
                record(madt + offset, offset, type, topology);
            }
            offset += entryLength;
        }
        return bootCpuListed;
    }

    /** Defined length of a known type, or 0 for a type this parser does not interpret. */
    static int requiredLength(int type) {
        return switch (type) {
            case TYPE_LOCAL_APIC -> LENGTH_LOCAL_APIC;
            case TYPE_IO_APIC -> LENGTH_IO_APIC;
            case TYPE_INTERRUPT_SOURCE_OVERRIDE -> LENGTH_INTERRUPT_SOURCE_OVERRIDE;
            case TYPE_NMI_SOURCE -> LENGTH_NMI_SOURCE;
            case TYPE_LOCAL_APIC_NMI -> LENGTH_LOCAL_APIC_NMI;
            case TYPE_LOCAL_APIC_ADDRESS_OVERRIDE -> LENGTH_LOCAL_APIC_ADDRESS_OVERRIDE;
            case TYPE_LOCAL_X2APIC -> LENGTH_LOCAL_X2APIC;
            case TYPE_LOCAL_X2APIC_NMI -> LENGTH_LOCAL_X2APIC_NMI;
            default -> 0;
        };
    }

    private static void record(long entry, long offset, int type, long topology) {
        switch (type) {
            case TYPE_LOCAL_APIC -> {
                int apicId = PhysicalWindow.u8(entry + 3);
                if (apicId == XAPIC_BROADCAST && usable(PhysicalWindow.u32(entry + 4))) {
                    reportEntry(offset);
                    Console.print(" gives a processor the broadcast APIC ID 0xff; ignoring it\n");
                    Topology.addDefect(topology, Defect.BAD_APIC_ID);
                    return;
                }
                recordProcessor(offset, apicId, PhysicalWindow.u8(entry + 2), PhysicalWindow.u32(entry + 4), 0,
                        topology);
            }
            case TYPE_LOCAL_X2APIC -> {
                int apicId = PhysicalWindow.u32(entry + 4);
                if (apicId == X2APIC_BROADCAST && usable(PhysicalWindow.u32(entry + 8))) {
                    reportEntry(offset);
                    Console.print(" gives a processor the broadcast x2APIC ID 0xffffffff; ignoring it\n");
                    Topology.addDefect(topology, Defect.BAD_APIC_ID);
                    return;
                }
                recordProcessor(offset, apicId, PhysicalWindow.u32(entry + 12), PhysicalWindow.u32(entry + 8),
                        Topology.CPU_X2APIC_ENTRY, topology);
            }
            case TYPE_IO_APIC -> {
                if (Topology.ioApicCount(topology) >= Topology.ioApicCapacity(topology)) {
                    dropped(offset, topology);
                    return;
                }
                Topology.appendIoApic(topology, PhysicalWindow.u8(entry + 2), PhysicalWindow.u32Unsigned(entry + 4),
                        PhysicalWindow.u32(entry + 8));
            }
            case TYPE_INTERRUPT_SOURCE_OVERRIDE -> {
                if (Topology.overrideCount(topology) >= Topology.overrideCapacity(topology)) {
                    dropped(offset, topology);
                    return;
                }
                Topology.appendOverride(topology, PhysicalWindow.u8(entry + 2), PhysicalWindow.u8(entry + 3),
                        PhysicalWindow.u16(entry + 8), PhysicalWindow.u32(entry + 4));
            }
            case TYPE_NMI_SOURCE -> recordNmi(offset, Topology.NMI_SOURCE, 0, PhysicalWindow.u16(entry + 2),
                    PhysicalWindow.u32(entry + 4), topology);
            case TYPE_LOCAL_APIC_NMI -> {
                int uid = PhysicalWindow.u8(entry + 2);
                recordNmi(offset, Topology.NMI_LOCAL_APIC, PhysicalWindow.u8(entry + 5), PhysicalWindow.u16(entry + 3),
                        uid == 0xFF ? Topology.UID_ALL_PROCESSORS : uid, topology);
            }
            case TYPE_LOCAL_X2APIC_NMI -> recordNmi(offset, Topology.NMI_LOCAL_APIC, PhysicalWindow.u8(entry + 8),
                    PhysicalWindow.u16(entry + 2), PhysicalWindow.u32(entry + 4), topology);
            case TYPE_LOCAL_APIC_ADDRESS_OVERRIDE ->
                    // §5.2.12.8: when present, the 64-bit address replaces the header's 32-bit one.
                    Topology.setLapicAddress(topology, PhysicalWindow.u64(entry + 4));
            default -> {
            }
        }
    }

    private static boolean usable(int flags) {
        return (flags & (FLAG_ENABLED | FLAG_ONLINE_CAPABLE)) != 0;
    }

    private static void recordProcessor(long offset, int apicId, int acpiUid, int flags, int kindFlag, long topology) {
        int cpuFlags = (flags & (FLAG_ENABLED | FLAG_ONLINE_CAPABLE)) | kindFlag;
        if (apicId == Topology.bspApicId(topology) && !bootCpuListed) {
            // cpu 0 was reserved for the boot CPU; this entry says what ACPI calls it.
            bootCpuListed = true;
            if ((flags & FLAG_ENABLED) == 0) {
                reportEntry(offset);
                Console.print(" marks the boot CPU (APIC ID ");
                Console.printHex(apicId & 0xFFFFFFFFL);
                Console.print(") not enabled; it is running, so treating it as enabled\n");
                Topology.addDefect(topology, Defect.BSP_MARKED_DISABLED);
            }
            Topology.describeBootCpu(topology, acpiUid, cpuFlags);
            return;
        }
        if (!usable(flags)) {
            Topology.increment(topology, Topology.OFFSET_UNUSABLE_CPU_COUNT);
            return;
        }
        int existing = ApicIdIndex.find(topology, apicId);
        if (existing >= 0) {
            reportEntry(offset);
            Console.print(" repeats APIC ID ");
            Console.printHex(apicId & 0xFFFFFFFFL);
            Console.print(" of an earlier processor; ignoring the later entry\n");
            Topology.addDefect(topology, Defect.BAD_APIC_ID);
            return;
        }
        if (Topology.cpuCount(topology) >= Topology.cpuCapacity(topology)) {
            dropped(offset, topology);
            return;
        }
        Topology.appendCpu(topology, apicId, acpiUid, cpuFlags);
    }

    private static void recordNmi(long offset, int kind, int lint, int flags, int target, long topology) {
        if (Topology.nmiCount(topology) >= Topology.nmiCapacity(topology)) {
            dropped(offset, topology);
            return;
        }
        Topology.appendNmi(topology, kind, lint, flags, target);
    }

    private static void dropped(long offset, long topology) {
        if (!Topology.hasDefect(topology, Defect.CAPACITY_EXCEEDED)) {
            reportEntry(offset);
            Console.print(" does not fit the topology's capacity; ignoring it and any further ones that do not fit\n");
        }
        Topology.addDefect(topology, Defect.CAPACITY_EXCEEDED);
        Topology.increment(topology, Topology.OFFSET_DROPPED_COUNT);
    }

    private static void reportEntry(long offset) {
        Console.print("acpi: MADT entry at offset ");
        Console.printHex(offset);
    }
}
