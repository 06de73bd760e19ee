package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Madt.parse at the edges the fixtures do not reach (ACPI 6.5 §5.2.12): a table of exactly its
 * 44-byte header and one byte less, the last two bytes of a table as a whole entry and one
 * stray byte, entry length 2 and 1, broadcast APIC IDs of usable and unusable processors
 * (xAPIC 0xFF, x2APIC 0xFFFFFFFF), x2APIC processors, every array one entry past its capacity,
 * the boot CPU's own entry with and without its enabled flag. The MADT is built byte by byte
 * in a physical window; the header's checksum is not looked at by parse.
 */
class MadtEdgesTest {
    private static final int BSP = 3;
    private static final long MADT = 0x100;

    private MemorySegment physical;
    private long topology;
    private final ByteArrayOutputStream entries = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        physical = HostArena.global().allocate(4096, 4096).fill((byte) 0);
        PhysicalWindow.map(physical.address(), 4096);
        topology = HostArena.global().allocate(Topology.bytesNeeded(2, 1, 1, 1), 8).fill((byte) 0xA5).address();
        Topology.format(topology, 2, 1, 1, 1);
        Topology.resetToBootCpu(topology, BSP);
        Console.hostClear();
    }

    @AfterEach
    void tearDown() {
        PhysicalWindow.map(0, 0);
    }

    private MadtEdgesTest entry(int... bytes) {
        for (int b : bytes) {
            entries.write(b);
        }
        return this;
    }

    private MadtEdgesTest localApic(int uid, int apicId, int flags) {
        return entry(Madt.TYPE_LOCAL_APIC, 8, uid, apicId, flags, 0, 0, 0);
    }

    private MadtEdgesTest x2apic(int apicId, int flags, int uid) {
        return entry(Madt.TYPE_LOCAL_X2APIC, 16, 0, 0, apicId & 0xFF, apicId >>> 8 & 0xFF, apicId >>> 16 & 0xFF,
                apicId >>> 24, flags, 0, 0, 0, uid, 0, 0, 0);
    }

    /** Writes the table (length = header + entries, or the given length) and parses it. */
    private boolean parse(long length) {
        byte[] body = entries.toByteArray();
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, MADT, Signature.MADT);
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, MADT + 4, (int) length);
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, MADT + Madt.OFFSET_LAPIC_ADDRESS, 0xFEC0_1000);
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, MADT + Madt.OFFSET_FLAGS, 1);
        MemorySegment.copy(body, 0, physical, ValueLayout.JAVA_BYTE, MADT + Madt.OFFSET_ENTRIES, body.length);
        return Madt.parse(MADT, topology);
    }

    private boolean parse() {
        return parse(Madt.OFFSET_ENTRIES + entries.size());
    }

    @Test
    void aTableOfJustItsHeaderIsEmptyAndOneByteLessIsTooShort() {
        assertFalse(parse(Madt.OFFSET_ENTRIES), "no entry: the boot CPU is not listed");
        assertEquals(0, Topology.defects(topology));
        assertEquals(0xFEC0_1000L, Topology.lapicAddress(topology), "the header's LAPIC address");
        assertEquals(1, Topology.madtFlags(topology));

        Topology.resetToBootCpu(topology, BSP);
        assertFalse(parse(Madt.OFFSET_ENTRIES - 1));
        assertTrue(Topology.hasDefect(topology, Defect.MADT_TOO_SHORT));
        assertEquals(Topology.DEFAULT_LAPIC_ADDRESS, Topology.lapicAddress(topology), "a short table is not read");
        assertTrue(Console.hostOutput().startsWith("acpi: MADT is 0x000000000000002b bytes"), Console.hostOutput());
    }

    @Test
    void twoLastBytesAreAnEntryOneIsAStrayByte() {
        localApic(0, BSP, 1).entry(0x7F, 2);
        assertTrue(parse());
        assertEquals(0, Topology.defects(topology), "a 2-byte entry of an unknown type is fine");
        assertEquals(1, Topology.unknownEntryCount(topology));

        Topology.resetToBootCpu(topology, BSP);
        entries.reset();
        localApic(0, BSP, 1).entry(0x7F);
        assertTrue(parse(), "what was parsed before the stray byte stands");
        assertEquals(Defect.ENTRY_BREAKS_TABLE, Topology.defects(topology));
    }

    @Test
    void anEntryLengthBelowTwoBreaksTheTable() {
        localApic(0, BSP, 1).entry(0x7F, 1, 0, 0);
        assertTrue(parse());
        assertEquals(Defect.ENTRY_BREAKS_TABLE, Topology.defects(topology));
        assertEquals(0, Topology.unknownEntryCount(topology));
    }

    @Test
    void broadcastIdsOfUsableProcessorsAreDefectsOfUnusableOnesNot() {
        localApic(0, BSP, 1).localApic(1, 0xFF, 0).x2apic(-1, 0, 9);
        assertTrue(parse());
        assertEquals(0, Topology.defects(topology));
        assertEquals(2, Topology.unusableCpuCount(topology));

        Topology.resetToBootCpu(topology, BSP);
        entries.reset();
        localApic(1, 0xFF, 2);
        parse();
        assertEquals(Defect.BAD_APIC_ID, Topology.defects(topology) & ~Defect.BSP_NOT_LISTED);
        assertEquals(1, Topology.cpuCount(topology));

        Topology.resetToBootCpu(topology, BSP);
        entries.reset();
        Console.hostClear();
        x2apic(-1, 1, 9);
        parse();
        assertEquals(Defect.BAD_APIC_ID, Topology.defects(topology) & ~Defect.BSP_NOT_LISTED);
        assertTrue(Console.hostOutput().contains("broadcast x2APIC ID 0xffffffff"), Console.hostOutput());
        assertEquals(1, Topology.cpuCount(topology));
    }

    @Test
    void anX2apicProcessorKeepsItsFullIdUidAndKind() {
        localApic(0, BSP, 1).x2apic(0x1234, 2, 77);
        assertTrue(parse());
        assertEquals(2, Topology.cpuCount(topology));
        assertEquals(0x1234, Topology.cpuApicId(topology, 1));
        assertEquals(77, Topology.cpuAcpiUid(topology, 1));
        assertEquals(Topology.CPU_ONLINE_CAPABLE | Topology.CPU_X2APIC_ENTRY, Topology.cpuFlags(topology, 1));
        assertEquals(1, Topology.enabledCpuCount(topology), "online-capable is not enabled");
    }

    @Test
    void oneEntryPastEachCapacityIsDroppedAndCounted() {
        localApic(0, BSP, 1).localApic(1, 4, 1).localApic(2, 5, 1)
                .entry(Madt.TYPE_IO_APIC, 12, 1, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0)
                .entry(Madt.TYPE_IO_APIC, 12, 2, 0, 0, 0x10, 0xC0, 0xFE, 24, 0, 0, 0)
                .entry(Madt.TYPE_INTERRUPT_SOURCE_OVERRIDE, 10, 0, 0, 2, 0, 0, 0, 0, 0)
                .entry(Madt.TYPE_INTERRUPT_SOURCE_OVERRIDE, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0)
                .entry(Madt.TYPE_LOCAL_APIC_NMI, 6, 0xFF, 5, 0, 1)
                .entry(Madt.TYPE_LOCAL_APIC_NMI, 6, 0, 5, 0, 1);
        assertTrue(parse());
        assertEquals(Defect.CAPACITY_EXCEEDED, Topology.defects(topology));
        assertEquals(4, Topology.droppedCount(topology), "a CPU, an I/O APIC, an override and an NMI");
        assertEquals(2, Topology.cpuCount(topology));
        assertEquals(1, Topology.ioApicCount(topology));
        assertEquals(1, Topology.overrideCount(topology));
        assertEquals(1, Topology.nmiCount(topology));
        assertEquals(1, Console.hostOutput().split("\n").length, "one line for all of them: " + Console.hostOutput());
    }

    @Test
    void theBootCpusEntryNamesItAndMayNotDisableIt() {
        localApic(6, BSP, 1);
        assertTrue(parse());
        assertEquals(0, Topology.defects(topology));
        assertEquals(6, Topology.cpuAcpiUid(topology, 0));

        Topology.resetToBootCpu(topology, BSP);
        entries.reset();
        localApic(6, BSP, 2);
        assertTrue(parse());
        assertEquals(Defect.BSP_MARKED_DISABLED, Topology.defects(topology));
        assertTrue(Topology.cpuIsEnabled(topology, 0));
        assertTrue(Topology.cpuIsOnlineCapable(topology, 0));
    }
}
