package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topology's own layout, filled to every capacity in memory that held garbage: format and
 * resetToBootCpu must write every header field themselves, and the four arrays must not overlap
 * (each entry of each kind reads back what was appended, whatever came after it). Discovery
 * tests reach Topology only through the few fields a fixture's MADT sets.
 */
class TopologyLayoutTest {
    private static final int CPUS = 5;
    private static final int IO_APICS = 3;
    private static final int OVERRIDES = 4;
    private static final int NMIS = 3;

    private static long garbageTopology() {
        long bytes = Topology.bytesNeeded(CPUS, IO_APICS, OVERRIDES, NMIS);
        MemorySegment memory = HostArena.global().allocate(bytes + 64, 8).fill((byte) 0xA5);
        long base = memory.address();
        Topology.format(base, CPUS, IO_APICS, OVERRIDES, NMIS);
        return base;
    }

    @Test
    void formatLeavesAnEmptyHeaderWithTheCapacitiesAndTheDefaultLapic() {
        long base = garbageTopology();
        assertEquals(0, Topology.outcome(base));
        assertEquals(0, Topology.defects(base));
        assertEquals(0, Topology.madtFlags(base));
        assertEquals(0, Topology.bspApicId(base));
        assertEquals(0, Topology.cpuCount(base));
        assertEquals(0, Topology.enabledCpuCount(base));
        assertEquals(0, Topology.unusableCpuCount(base));
        assertEquals(0, Topology.droppedCount(base));
        assertEquals(0, Topology.unknownEntryCount(base));
        assertEquals(0, Topology.ioApicCount(base));
        assertEquals(0, Topology.overrideCount(base));
        assertEquals(0, Topology.nmiCount(base));
        assertEquals(CPUS, Topology.cpuCapacity(base));
        assertEquals(IO_APICS, Topology.ioApicCapacity(base));
        assertEquals(OVERRIDES, Topology.overrideCapacity(base));
        assertEquals(NMIS, Topology.nmiCapacity(base));
        assertEquals(Topology.DEFAULT_LAPIC_ADDRESS, Topology.lapicAddress(base));
        assertEquals(base + Topology.HEADER_SIZE, Topology.cpuAddress(base, 0));
        assertEquals(16, Topology.indexSlotsFor(8), "a power of two at least twice the capacity");
        assertEquals(32, Topology.indexSlotsFor(9));
        assertEquals(4, Topology.indexSlotsFor(1));
        assertEquals(4, Topology.indexSlotsFor(2));
    }

    @Test
    void everyArrayHoldsItsFullCapacityWithoutTouchingTheOthers() {
        long base = garbageTopology();
        Topology.resetToBootCpu(base, 40);
        for (int i = 1; i < CPUS; i++) {
            assertEquals(i, Topology.appendCpu(base, 40 + i, 100 + i,
                    i % 2 == 0 ? Topology.CPU_ENABLED : Topology.CPU_ONLINE_CAPABLE));
        }
        for (int i = 0; i < IO_APICS; i++) {
            Topology.appendIoApic(base, 10 + i, 0xFEC0_0000L + i * 0x1000L, 24 * i + 1);
        }
        for (int i = 0; i < OVERRIDES; i++) {
            Topology.appendOverride(base, i == 2 ? 1 : 0, i + 3, 0x0F0 + i, 20 + i);
        }
        for (int i = 0; i < NMIS; i++) {
            Topology.appendNmi(base, Topology.NMI_LOCAL_APIC - i % 2, i, 0x5 + i, 200 + i);
        }

        assertEquals(CPUS, Topology.cpuCount(base));
        assertEquals(1 + 2, Topology.enabledCpuCount(base), "the boot CPU and CPUs 2 and 4");
        assertTrue(Topology.cpuIsBsp(base, 0));
        assertTrue(Topology.cpuIsEnabled(base, 0));
        assertEquals(Topology.UID_UNKNOWN, Topology.cpuAcpiUid(base, 0));
        for (int i = 1; i < CPUS; i++) {
            assertEquals(40 + i, Topology.cpuApicId(base, i));
            assertEquals(100 + i, Topology.cpuAcpiUid(base, i));
            assertEquals(i % 2 == 0, Topology.cpuIsEnabled(base, i), "cpu " + i);
            assertEquals(i % 2 == 1, Topology.cpuIsOnlineCapable(base, i), "cpu " + i);
            assertFalse(Topology.cpuIsBsp(base, i));
            assertEquals(i, Topology.cpuIndexOfApicId(base, 40 + i));
        }
        assertEquals(IO_APICS, Topology.ioApicCount(base));
        for (int i = 0; i < IO_APICS; i++) {
            assertEquals(10 + i, Topology.ioApicId(base, i));
            assertEquals(24 * i + 1, Topology.ioApicGsiBase(base, i));
            assertEquals(0xFEC0_0000L + i * 0x1000L, Topology.ioApicMmio(base, i));
        }
        assertEquals(OVERRIDES, Topology.overrideCount(base));
        for (int i = 0; i < OVERRIDES; i++) {
            assertEquals(i == 2 ? 1 : 0, Topology.overrideBus(base, i));
            assertEquals(i + 3, Topology.overrideSourceIrq(base, i));
            assertEquals(0x0F0 + i, Topology.overrideFlags(base, i));
            assertEquals(20 + i, Topology.overrideGsi(base, i));
        }
        assertEquals(NMIS, Topology.nmiCount(base));
        for (int i = 0; i < NMIS; i++) {
            assertEquals(Topology.NMI_LOCAL_APIC - i % 2, Topology.nmiKind(base, i));
            assertEquals(i, Topology.nmiLint(base, i));
            assertEquals(0x5 + i, Topology.nmiFlags(base, i));
            assertEquals(200 + i, Topology.nmiTarget(base, i));
        }
    }

    @Test
    void anIsaIrqMapsThroughTheFirstBusZeroOverrideForIt() {
        long base = garbageTopology();
        Topology.resetToBootCpu(base, 0);
        Topology.appendOverride(base, 0, 0, 0, 2);
        Topology.appendOverride(base, 1, 9, 0, 30);
        Topology.appendOverride(base, 0, 9, 0, 19);
        Topology.appendOverride(base, 0, 9, 0, 21);
        assertEquals(2, Topology.gsiOfIsaIrq(base, 0));
        assertEquals(19, Topology.gsiOfIsaIrq(base, 9), "bus 1 is not ISA; the first match wins");
        assertEquals(4, Topology.gsiOfIsaIrq(base, 4), "no override: identity");
    }

    @Test
    void resetForgetsEverythingButTheBootCpuEvenOverGarbage() {
        long base = garbageTopology();
        for (int offset = 0; offset < 0x48; offset += 4) {
            if (offset < 0x18 || offset == 0x1C || offset == 0x20 || offset == 0x28 || offset == 0x30
                    || offset >= 0x38) {
                Memory.store32(base + offset, 0x5A5A5A5A);
            }
        }
        Topology.resetToBootCpu(base, 7);
        assertEquals(0, Topology.outcome(base));
        assertEquals(0, Topology.defects(base));
        assertEquals(0, Topology.madtFlags(base));
        assertEquals(Topology.DEFAULT_LAPIC_ADDRESS, Topology.lapicAddress(base));
        assertEquals(7, Topology.bspApicId(base));
        assertEquals(1, Topology.cpuCount(base));
        assertEquals(1, Topology.enabledCpuCount(base));
        assertEquals(0, Topology.ioApicCount(base));
        assertEquals(0, Topology.overrideCount(base));
        assertEquals(0, Topology.nmiCount(base));
        assertEquals(0, Topology.unusableCpuCount(base));
        assertEquals(0, Topology.droppedCount(base));
        assertEquals(0, Topology.unknownEntryCount(base));
        assertEquals(CPUS, Topology.cpuCapacity(base), "capacities stay");
        assertEquals(7, Topology.cpuApicId(base, 0));
        assertEquals(Topology.CPU_ENABLED | Topology.CPU_BSP, Topology.cpuFlags(base, 0));
        assertEquals(0, Topology.cpuIndexOfApicId(base, 7));

        Topology.describeBootCpu(base, 3, Topology.CPU_ONLINE_CAPABLE | Topology.CPU_X2APIC_ENTRY | 0x100);
        assertEquals(3, Topology.cpuAcpiUid(base, 0));
        assertEquals(Topology.CPU_ENABLED | Topology.CPU_BSP | Topology.CPU_ONLINE_CAPABLE | Topology.CPU_X2APIC_ENTRY,
                Topology.cpuFlags(base, 0), "only the entry's online-capable and x2APIC bits are taken");
        Topology.increment(base, Topology.OFFSET_UNKNOWN_ENTRY_COUNT);
        assertEquals(1, Topology.unknownEntryCount(base));
        Topology.addDefect(base, 2);
        Topology.addDefect(base, 8);
        assertTrue(Topology.hasDefect(base, 8));
        assertFalse(Topology.hasDefect(base, 4));
        assertEquals(10, Topology.defects(base));
        Topology.setOutcome(base, 3);
        assertEquals(3, Topology.outcome(base));
    }
}
