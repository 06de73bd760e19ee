package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Memory;

/**
 * The system topology ACPI discovery produces, laid out in a caller-provided memory area
 * (C-struct style; every accessor takes the area's base address). Capacities are chosen by the
 * caller in format(); nothing here limits the CPU count.
 *
 * Layout (little-endian; offsets from base):
 *   header (HEADER_SIZE bytes):
 *     0x00 u32 outcome            Outcome.SMP / SMP_DEGRADED / UNIPROCESSOR
 *     0x04 u32 defects            bit set of Defect.*
 *     0x08 u64 lapicAddress       MADT header value, or the Local APIC Address Override
 *     0x10 u32 madtFlags          MADT flags (bit 0 PCAT_COMPAT: 8259s present, mask them)
 *     0x14 u32 bspApicId          the boot CPU's APIC ID as the caller gave it
 *     0x18 u32 cpuCapacity        0x1C u32 cpuCount         0x20 u32 enabledCpuCount
 *     0x24 u32 ioApicCapacity     0x28 u32 ioApicCount
 *     0x2C u32 overrideCapacity   0x30 u32 overrideCount
 *     0x34 u32 nmiCapacity        0x38 u32 nmiCount
 *     0x3C u32 unusableCpuCount   processor entries with neither enabled nor online-capable set
 *     0x40 u32 droppedCount       entries dropped because an array was full
 *     0x44 u32 unknownEntryCount  MADT entries of types this parser does not know (skipped)
 *     0x48 u32 cpusOffset  0x4C ioApicsOffset  0x50 overridesOffset  0x54 nmisOffset
 *     0x58 u32 indexOffset 0x5C u32 indexSlots (duplicate-APIC-ID hash index, scratch)
 *   cpus[cpuCapacity], CPU_SIZE bytes each; cpu 0 is always the boot CPU:
 *     0 u32 apicId   4 u32 acpiUid (UID_UNKNOWN if the MADT did not say)   8 u32 flags (CPU_*)
 *   ioApics[ioApicCapacity], IO_APIC_SIZE bytes each:
 *     0 u32 id   4 u32 gsiBase   8 u64 address
 *   overrides[overrideCapacity], OVERRIDE_SIZE bytes each (MADT type 2, §5.2.12.5):
 *     0 u8 bus   1 u8 sourceIrq   2 u16 flags (MPS INTI flags)   4 u32 gsi
 *   nmis[nmiCapacity], NMI_SIZE bytes each:
 *     0 u8 kind (NMI_SOURCE: GSI wired to NMI, §5.2.12.6; NMI_LOCAL_APIC: a LINT input, from
 *       MADT type 4 or 0xA, §5.2.12.7 / §5.2.12.13)   1 u8 lint   2 u16 flags (MPS INTI flags)
 *     4 u32 target: the GSI for NMI_SOURCE, the ACPI processor UID for NMI_LOCAL_APIC
 *       (UID_ALL_PROCESSORS for "every processor"; the 8-bit 0xFF of type 4 is widened to it)
 *   index[indexSlots] u32 (private to discovery)
 */
public final class Topology {
    private Topology() {
    }

    static final int OFFSET_OUTCOME = 0x00;
    static final int OFFSET_DEFECTS = 0x04;
    static final int OFFSET_LAPIC_ADDRESS = 0x08;
    static final int OFFSET_MADT_FLAGS = 0x10;
    static final int OFFSET_BSP_APIC_ID = 0x14;
    static final int OFFSET_CPU_CAPACITY = 0x18;
    static final int OFFSET_CPU_COUNT = 0x1C;
    static final int OFFSET_ENABLED_CPU_COUNT = 0x20;
    static final int OFFSET_IO_APIC_CAPACITY = 0x24;
    static final int OFFSET_IO_APIC_COUNT = 0x28;
    static final int OFFSET_OVERRIDE_CAPACITY = 0x2C;
    static final int OFFSET_OVERRIDE_COUNT = 0x30;
    static final int OFFSET_NMI_CAPACITY = 0x34;
    static final int OFFSET_NMI_COUNT = 0x38;
    static final int OFFSET_UNUSABLE_CPU_COUNT = 0x3C;
    static final int OFFSET_DROPPED_COUNT = 0x40;
    static final int OFFSET_UNKNOWN_ENTRY_COUNT = 0x44;
    static final int OFFSET_CPUS = 0x48;
    static final int OFFSET_IO_APICS = 0x4C;
    static final int OFFSET_OVERRIDES = 0x50;
    static final int OFFSET_NMIS = 0x54;
    static final int OFFSET_INDEX = 0x58;
    static final int OFFSET_INDEX_SLOTS = 0x5C;
    public static final int HEADER_SIZE = 0x60;

    public static final int CPU_SIZE = 16;
    static final int CPU_APIC_ID = 0;
    static final int CPU_ACPI_UID = 4;
    static final int CPU_FLAGS = 8;
    /** The processor is running or may be started now (MADT flag bit 0). */
    public static final int CPU_ENABLED = 1;
    /** The processor is off but may be hot-added and started later (MADT flag bit 1, ACPI 6.3+). */
    public static final int CPU_ONLINE_CAPABLE = 2;
    /** The processor this code runs on. */
    public static final int CPU_BSP = 4;
    /** Described by a Processor Local x2APIC entry (type 9) rather than a Local APIC entry. */
    public static final int CPU_X2APIC_ENTRY = 8;
    /** acpiUid of a boot CPU that discovery could not match to an MADT entry. */
    public static final int UID_UNKNOWN = -1;
    /** NMI target meaning every processor (§5.2.12.7 0xFF, §5.2.12.13 0xFFFFFFFF). */
    public static final int UID_ALL_PROCESSORS = -1;

    public static final int IO_APIC_SIZE = 16;
    public static final int OVERRIDE_SIZE = 8;
    public static final int NMI_SIZE = 8;
    public static final int NMI_SOURCE = 3;
    public static final int NMI_LOCAL_APIC = 4;

    /** The architectural local APIC base after reset (Intel SDM Vol. 3 §11.4.1). */
    public static final long DEFAULT_LAPIC_ADDRESS = 0xFEE00000L;

    /** Bytes format() needs for these capacities. */
    public static long bytesNeeded(int cpuCapacity, int ioApicCapacity, int overrideCapacity, int nmiCapacity) {
        return HEADER_SIZE + (long) cpuCapacity * CPU_SIZE + (long) ioApicCapacity * IO_APIC_SIZE
                + (long) overrideCapacity * OVERRIDE_SIZE + (long) nmiCapacity * NMI_SIZE
                + 4L * indexSlotsFor(cpuCapacity);
    }

    /** Lays out an empty topology with these capacities (cpuCapacity ≥ 1) at base. */
    public static void format(long base, int cpuCapacity, int ioApicCapacity, int overrideCapacity, int nmiCapacity) {
        for (int offset = 0; offset < HEADER_SIZE; offset += 4) {
            Memory.store32(base + offset, 0);
        }
        int cpus = HEADER_SIZE;
        int ioApics = cpus + cpuCapacity * CPU_SIZE;
        int overrides = ioApics + ioApicCapacity * IO_APIC_SIZE;
        int nmis = overrides + overrideCapacity * OVERRIDE_SIZE;
        int index = nmis + nmiCapacity * NMI_SIZE;
        Memory.store32(base + OFFSET_CPU_CAPACITY, cpuCapacity);
        Memory.store32(base + OFFSET_IO_APIC_CAPACITY, ioApicCapacity);
        Memory.store32(base + OFFSET_OVERRIDE_CAPACITY, overrideCapacity);
        Memory.store32(base + OFFSET_NMI_CAPACITY, nmiCapacity);
        Memory.store32(base + OFFSET_CPUS, cpus);
        Memory.store32(base + OFFSET_IO_APICS, ioApics);
        Memory.store32(base + OFFSET_OVERRIDES, overrides);
        Memory.store32(base + OFFSET_NMIS, nmis);
        Memory.store32(base + OFFSET_INDEX, index);
        Memory.store32(base + OFFSET_INDEX_SLOTS, indexSlotsFor(cpuCapacity));
        Memory.store64(base + OFFSET_LAPIC_ADDRESS, DEFAULT_LAPIC_ADDRESS);
    }

    /** A power of two at least twice the capacity, so open-addressing probes stay short. */
    static int indexSlotsFor(int cpuCapacity) {
        int slots = 4;
        while (slots < 2 * cpuCapacity) {
            slots <<= 1;
        }
        return slots;
    }

    /**
     * Forgets any earlier contents and leaves exactly the boot CPU (cpu 0: enabled, BSP, UID
     * unknown) at the default LAPIC address: the uniprocessor topology every fallback returns to.
     */
    public static void resetToBootCpu(long base, int bspApicId) {
        for (int offset = OFFSET_OUTCOME; offset < OFFSET_CPU_CAPACITY; offset += 4) {
            Memory.store32(base + offset, 0);
        }
        Memory.store32(base + OFFSET_CPU_COUNT, 0);
        Memory.store32(base + OFFSET_ENABLED_CPU_COUNT, 0);
        Memory.store32(base + OFFSET_IO_APIC_COUNT, 0);
        Memory.store32(base + OFFSET_OVERRIDE_COUNT, 0);
        Memory.store32(base + OFFSET_NMI_COUNT, 0);
        Memory.store32(base + OFFSET_UNUSABLE_CPU_COUNT, 0);
        Memory.store32(base + OFFSET_DROPPED_COUNT, 0);
        Memory.store32(base + OFFSET_UNKNOWN_ENTRY_COUNT, 0);
        Memory.store64(base + OFFSET_LAPIC_ADDRESS, DEFAULT_LAPIC_ADDRESS);
        Memory.store32(base + OFFSET_BSP_APIC_ID, bspApicId);
        ApicIdIndex.clear(base);
        long cpu = cpuAddress(base, 0);
        Memory.store32(cpu + CPU_APIC_ID, bspApicId);
        Memory.store32(cpu + CPU_ACPI_UID, UID_UNKNOWN);
        Memory.store32(cpu + CPU_FLAGS, CPU_ENABLED | CPU_BSP);
        Memory.store32(base + OFFSET_CPU_COUNT, 1);
        Memory.store32(base + OFFSET_ENABLED_CPU_COUNT, 1);
        ApicIdIndex.insert(base, bspApicId, 0);
    }

    // ---- header ----

    public static int outcome(long base) {
        return Memory.load32(base + OFFSET_OUTCOME);
    }

    public static int defects(long base) {
        return Memory.load32(base + OFFSET_DEFECTS);
    }

    public static boolean hasDefect(long base, int defect) {
        return (defects(base) & defect) != 0;
    }

    public static long lapicAddress(long base) {
        return Memory.load64(base + OFFSET_LAPIC_ADDRESS);
    }

    public static int madtFlags(long base) {
        return Memory.load32(base + OFFSET_MADT_FLAGS);
    }

    public static int bspApicId(long base) {
        return Memory.load32(base + OFFSET_BSP_APIC_ID);
    }

    public static int cpuCapacity(long base) {
        return Memory.load32(base + OFFSET_CPU_CAPACITY);
    }

    public static int cpuCount(long base) {
        return Memory.load32(base + OFFSET_CPU_COUNT);
    }

    public static int enabledCpuCount(long base) {
        return Memory.load32(base + OFFSET_ENABLED_CPU_COUNT);
    }

    public static int unusableCpuCount(long base) {
        return Memory.load32(base + OFFSET_UNUSABLE_CPU_COUNT);
    }

    public static int droppedCount(long base) {
        return Memory.load32(base + OFFSET_DROPPED_COUNT);
    }

    public static int unknownEntryCount(long base) {
        return Memory.load32(base + OFFSET_UNKNOWN_ENTRY_COUNT);
    }

    public static int ioApicCapacity(long base) {
        return Memory.load32(base + OFFSET_IO_APIC_CAPACITY);
    }

    public static int ioApicCount(long base) {
        return Memory.load32(base + OFFSET_IO_APIC_COUNT);
    }

    public static int overrideCapacity(long base) {
        return Memory.load32(base + OFFSET_OVERRIDE_CAPACITY);
    }

    public static int overrideCount(long base) {
        return Memory.load32(base + OFFSET_OVERRIDE_COUNT);
    }

    public static int nmiCapacity(long base) {
        return Memory.load32(base + OFFSET_NMI_CAPACITY);
    }

    public static int nmiCount(long base) {
        return Memory.load32(base + OFFSET_NMI_COUNT);
    }

    // ---- processors ----

    public static long cpuAddress(long base, int index) {
        return base + Memory.load32(base + OFFSET_CPUS) + (long) index * CPU_SIZE;
    }

    public static int cpuApicId(long base, int index) {
        return Memory.load32(cpuAddress(base, index) + CPU_APIC_ID);
    }

    public static int cpuAcpiUid(long base, int index) {
        return Memory.load32(cpuAddress(base, index) + CPU_ACPI_UID);
    }

    public static int cpuFlags(long base, int index) {
        return Memory.load32(cpuAddress(base, index) + CPU_FLAGS);
    }

    public static boolean cpuIsEnabled(long base, int index) {
        return (cpuFlags(base, index) & CPU_ENABLED) != 0;
    }

    public static boolean cpuIsOnlineCapable(long base, int index) {
        return (cpuFlags(base, index) & CPU_ONLINE_CAPABLE) != 0;
    }

    public static boolean cpuIsBsp(long base, int index) {
        return (cpuFlags(base, index) & CPU_BSP) != 0;
    }

    /** Index of the processor with this APIC ID, or -1. */
    public static int cpuIndexOfApicId(long base, int apicId) {
        return ApicIdIndex.find(base, apicId);
    }

    // ---- I/O APICs ----

    public static long ioApicAddress(long base, int index) {
        return base + Memory.load32(base + OFFSET_IO_APICS) + (long) index * IO_APIC_SIZE;
    }

    public static int ioApicId(long base, int index) {
        return Memory.load32(ioApicAddress(base, index));
    }

    public static int ioApicGsiBase(long base, int index) {
        return Memory.load32(ioApicAddress(base, index) + 4);
    }

    /** Physical address of the I/O APIC's registers. */
    public static long ioApicMmio(long base, int index) {
        return Memory.load64(ioApicAddress(base, index) + 8);
    }

    // ---- interrupt source overrides ----

    public static long overrideAddress(long base, int index) {
        return base + Memory.load32(base + OFFSET_OVERRIDES) + (long) index * OVERRIDE_SIZE;
    }

    public static int overrideBus(long base, int index) {
        return Memory.load8(overrideAddress(base, index)) & 0xFF;
    }

    public static int overrideSourceIrq(long base, int index) {
        return Memory.load8(overrideAddress(base, index) + 1) & 0xFF;
    }

    public static int overrideFlags(long base, int index) {
        return Memory.load16(overrideAddress(base, index) + 2) & 0xFFFF;
    }

    public static int overrideGsi(long base, int index) {
        return Memory.load32(overrideAddress(base, index) + 4);
    }

    /** The GSI ISA IRQ {@code irq} arrives on: its override's GSI, else the IRQ number (§5.2.12.5). */
    public static int gsiOfIsaIrq(long base, int irq) {
        int count = overrideCount(base);
        for (int i = 0; i < count; i++) {
            if (overrideBus(base, i) == 0 && overrideSourceIrq(base, i) == irq) {
                return overrideGsi(base, i);
            }
        }
        return irq;
    }

    // ---- NMI wiring ----

    public static long nmiAddress(long base, int index) {
        return base + Memory.load32(base + OFFSET_NMIS) + (long) index * NMI_SIZE;
    }

    public static int nmiKind(long base, int index) {
        return Memory.load8(nmiAddress(base, index)) & 0xFF;
    }

    public static int nmiLint(long base, int index) {
        return Memory.load8(nmiAddress(base, index) + 1) & 0xFF;
    }

    public static int nmiFlags(long base, int index) {
        return Memory.load16(nmiAddress(base, index) + 2) & 0xFFFF;
    }

    public static int nmiTarget(long base, int index) {
        return Memory.load32(nmiAddress(base, index) + 4);
    }

    // ---- writers used by discovery ----

    static void setOutcome(long base, int outcome) {
        Memory.store32(base + OFFSET_OUTCOME, outcome);
    }

    static void addDefect(long base, int defect) {
        Memory.store32(base + OFFSET_DEFECTS, defects(base) | defect);
    }

    static void setLapicAddress(long base, long address) {
        Memory.store64(base + OFFSET_LAPIC_ADDRESS, address);
    }

    static void setMadtFlags(long base, int flags) {
        Memory.store32(base + OFFSET_MADT_FLAGS, flags);
    }

    static void increment(long base, int offset) {
        Memory.store32(base + offset, Memory.load32(base + offset) + 1);
    }

    /** Appends a processor; the caller has checked capacity and uniqueness. Returns its index. */
    static int appendCpu(long base, int apicId, int acpiUid, int flags) {
        int index = cpuCount(base);
        long cpu = cpuAddress(base, index);
        Memory.store32(cpu + CPU_APIC_ID, apicId);
        Memory.store32(cpu + CPU_ACPI_UID, acpiUid);
        Memory.store32(cpu + CPU_FLAGS, flags);
        Memory.store32(base + OFFSET_CPU_COUNT, index + 1);
        if ((flags & CPU_ENABLED) != 0) {
            increment(base, OFFSET_ENABLED_CPU_COUNT);
        }
        ApicIdIndex.insert(base, apicId, index);
        return index;
    }

    /** Fills in what the MADT says about the boot CPU (always cpu 0). */
    static void describeBootCpu(long base, int acpiUid, int entryFlags) {
        long cpu = cpuAddress(base, 0);
        Memory.store32(cpu + CPU_ACPI_UID, acpiUid);
        Memory.store32(cpu + CPU_FLAGS, CPU_ENABLED | CPU_BSP | (entryFlags & (CPU_ONLINE_CAPABLE | CPU_X2APIC_ENTRY)));
    }

    static void appendIoApic(long base, int id, long address, int gsiBase) {
        int index = ioApicCount(base);
        long entry = ioApicAddress(base, index);
        Memory.store32(entry, id);
        Memory.store32(entry + 4, gsiBase);
        Memory.store64(entry + 8, address);
        Memory.store32(base + OFFSET_IO_APIC_COUNT, index + 1);
    }

    static void appendOverride(long base, int bus, int sourceIrq, int flags, int gsi) {
        int index = overrideCount(base);
        long entry = overrideAddress(base, index);
        Memory.store8(entry, (byte) bus);
        Memory.store8(entry + 1, (byte) sourceIrq);
        Memory.store16(entry + 2, (short) flags);
        Memory.store32(entry + 4, gsi);
        Memory.store32(base + OFFSET_OVERRIDE_COUNT, index + 1);
    }

    static void appendNmi(long base, int kind, int lint, int flags, int target) {
        int index = nmiCount(base);
        long entry = nmiAddress(base, index);
        Memory.store8(entry, (byte) kind);
        Memory.store8(entry + 1, (byte) lint);
        Memory.store16(entry + 2, (short) flags);
        Memory.store32(entry + 4, target);
        Memory.store32(base + OFFSET_NMI_COUNT, index + 1);
    }
}
