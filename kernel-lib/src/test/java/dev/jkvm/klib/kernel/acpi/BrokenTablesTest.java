package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Broken variants of real table sets: each defect gets its one-line message and the documented
 * outcome (see Defect and Acpi). Each variant starts from a fixture that is first shown to be
 * sound, so a failure here is the defect's doing. The timeout only guards against the hang a
 * zero-length entry could cause.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BrokenTablesTest {
    private static final String FIXTURES = "jkvm-smp8, 4194304, 8\nqemu-q35-smp4, 33554432, 4";

    private static String hex(long value) {
        return String.format("0x%016x", value);
    }

    private static PhysicalImage sound(String fixture, long ramSize, int cpus) {
        PhysicalImage image = PhysicalImage.fixture(fixture, ramSize);
        DiscoveredTopology before = DiscoveredTopology.discover(image, 0);
        assertEquals(Outcome.SMP, before.outcome(), before.log());
        assertEquals(cpus, before.cpus().size());
        return image;
    }

    private static void assertBootCpuOnly(DiscoveredTopology t, int defect) {
        assertEquals(Outcome.UNIPROCESSOR, t.outcome(), t.log());
        assertTrue((t.defects() & defect) != 0, "defect bits " + Integer.toHexString(t.defects()));
        assertEquals(List.of(new DiscoveredTopology.Cpu(0, Topology.UID_UNKNOWN, Topology.CPU_ENABLED | Topology.CPU_BSP)),
                t.cpus());
        assertEquals(List.of(), t.ioApics());
        assertEquals(List.of(), t.overrides());
        assertEquals(Topology.DEFAULT_LAPIC_ADDRESS, t.lapicAddress());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void badMadtChecksumMeansNoMadt(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            long madt = image.table("APIC");
            image.put8(madt + 9, image.u8(madt + 9) + 1);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: APIC table at " + hex(madt) + " has a bad checksum; ignoring it",
                    "acpi: no valid MADT (APIC table); booting uniprocessor"), t.log().lines().toList());
            assertBootCpuOnly(t, Defect.NO_MADT);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void missingMadtMeansUniprocessor(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            long madt = image.table("APIC");
            image.write(madt, "NOPE".getBytes());
            image.fixChecksum(madt);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: no valid MADT (APIC table); booting uniprocessor"), t.log().lines().toList());
            assertBootCpuOnly(t, Defect.NO_MADT);
            assertEquals(image.table("FACP"), Acpi.findTable(Signature.FADT), "other tables are still found");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void truncatedEntryIsSkipped(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_LOCAL_APIC, 2);
            byte[] shortened = Arrays.copyOf(madt.entries().get(victim), 6);
            shortened[1] = 6;
            image.replace("APIC", madt.with(victim, shortened).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(victim))
                    + " of type 0x0000000000000000 is truncated (length 0x0000000000000006, needs 0x0000000000000008); skipping it"),
                    t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.ENTRY_TRUNCATED, t.defects());
            assertEquals(cpus - 1, t.cpus().size());
            assertFalse(t.apicIds().contains(2));
            assertEquals(1, t.ioApics().size(), "entries after the truncated one are still read");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void overlongEntryIsUsedAndSteppedOver(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            DiscoveredTopology before = DiscoveredTopology.discover(image, 0);
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_IO_APIC, 0);
            byte[] longer = Arrays.copyOf(madt.entries().get(victim), 16);
            Arrays.fill(longer, 12, 16, (byte) 0xAA);
            longer[1] = 16;
            image.replace("APIC", madt.with(victim, longer).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(victim))
                    + " of type 0x0000000000000001 is overlong (length 0x0000000000000010, defined as 0x000000000000000c); using its defined fields"),
                    t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.ENTRY_OVERLONG, t.defects());
            assertEquals(before.cpus(), t.cpus());
            assertEquals(before.ioApics(), t.ioApics());
            assertEquals(before.overrides(), t.overrides());
            assertEquals(before.nmis(), t.nmis());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void zeroLengthEntryEndsTheWalkWithoutLooping(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_LOCAL_APIC, 2);
            byte[] raw = madt.raw();
            raw[madt.offsetOf(victim) + 1] = 0;
            image.replace("APIC", PhysicalImage.sealed(raw));
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(victim))
                    + " has length 0x0000000000000000; ignoring the rest of the table",
                    "acpi: MADT lists no I/O APIC; interrupts need the 8259 PICs"), t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.ENTRY_BREAKS_TABLE | Defect.NO_IO_APIC, t.defects());
            assertEquals(List.of(0, 1), t.apicIds(), "entries before the broken one are kept");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void entryRunningPastTheEndIsIgnored(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            DiscoveredTopology before = DiscoveredTopology.discover(image, 0);
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int last = madt.entries().size() - 1;
            byte[] raw = madt.raw();
            int lastType = raw[madt.offsetOf(last)] & 0xFF;
            raw[madt.offsetOf(last) + 1] = (byte) (madt.entries().get(last).length + 8);
            image.replace("APIC", PhysicalImage.sealed(raw));
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(last)) + " (type " + hex(lastType)
                    + ", length " + hex(madt.entries().get(last).length + 8) + ") runs past the end of the table; ignoring it"),
                    t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.ENTRY_BREAKS_TABLE, t.defects());
            assertEquals(before.cpus(), t.cpus());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void strayByteAfterTheLastEntryIsIgnored(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            byte[] madt = image.tableBytes("APIC");
            byte[] longer = Arrays.copyOf(madt, madt.length + 1);
            longer[madt.length] = 9;
            image.replace("APIC", PhysicalImage.sealed(longer));
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.length)
                    + " is a stray byte after the last entry; ignoring it"), t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void duplicateApicIdKeepsTheFirstProcessor(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_LOCAL_APIC, 3);
            byte[] entry = madt.entries().get(victim).clone();
            entry[3] = 1;
            image.replace("APIC", madt.with(victim, entry).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(victim))
                    + " repeats APIC ID 0x0000000000000001 of an earlier processor; ignoring the later entry"),
                    t.log().lines().toList());
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.BAD_APIC_ID, t.defects());
            assertEquals(cpus - 1, t.cpus().size());
            assertEquals(1, t.cpus().get(1).acpiUid(), "the first processor with ID 1 (UID 1) is kept");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void duplicateOfTheBootCpuIsIgnored(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_LOCAL_APIC, 1);
            byte[] entry = madt.entries().get(victim).clone();
            entry[3] = 0;
            image.replace("APIC", madt.with(victim, entry).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(Defect.BAD_APIC_ID, t.defects(), t.log());
            assertEquals(0, t.cpus().getFirst().acpiUid(), "the boot CPU keeps its first entry's UID");
            assertEquals(cpus - 1, t.cpus().size());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void noEnabledApplicationProcessorMeansUniprocessor(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            for (int n = 1; n < cpus; n++) {
                int i = madt.indexOf(Madt.TYPE_LOCAL_APIC, n);
                byte[] entry = madt.entries().get(i).clone();
                entry[4] = 0;
                madt = madt.with(i, entry);
            }
            image.replace("APIC", madt.sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT lists no enabled processor besides the boot CPU; booting uniprocessor"),
                    t.log().lines().toList());
            assertEquals(Outcome.UNIPROCESSOR, t.outcome());
            assertEquals(Defect.NO_ENABLED_AP, t.defects());
            assertEquals(List.of(0), t.apicIds());
            assertEquals(cpus - 1, t.unusableCpus());
            assertEquals(1, t.ioApics().size(), "a sound table keeps its interrupt routing");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void onlineCapableProcessorsAreKeptButNotCountedAsEnabled(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int i = madt.indexOf(Madt.TYPE_LOCAL_APIC, cpus - 1);
            byte[] entry = madt.entries().get(i).clone();
            entry[4] = 2;
            image.replace("APIC", madt.with(i, entry).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(Outcome.SMP, t.outcome(), t.log());
            assertEquals(Topology.CPU_ONLINE_CAPABLE, t.cpus().getLast().flags());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void bootCpuMissingFromTheMadtMeansUniprocessor(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0x77);
            assertEquals(List.of("acpi: MADT does not list the boot CPU (APIC ID 0x0000000000000077), so it does not"
                    + " describe this machine; booting uniprocessor"), t.log().lines().toList());
            assertEquals(Outcome.UNIPROCESSOR, t.outcome());
            assertEquals(List.of(0x77), t.apicIds());
            assertTrue((t.defects() & Defect.BSP_NOT_LISTED) != 0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void badRsdpChecksumMeansNoTables(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            long rsdp = image.rsdp();
            image.put8(rsdp + 9, image.u8(rsdp + 9) ^ 0x20);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: RSDP candidate at " + hex(rsdp) + " has a bad checksum; skipping it",
                    "acpi: no valid RSDP in the EBDA or at 0xe0000-0xfffff; booting uniprocessor"), t.log().lines().toList());
            assertBootCpuOnly(t, Defect.NO_RSDP);
            assertEquals(Acpi.NOT_FOUND, Acpi.findTable(Signature.MADT));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void rsdtPointingOutsideMemoryMeansNoTables(String fixture, long ramSize, int cpus) {
        try (PhysicalImage image = sound(fixture, ramSize, cpus)) {
            long rsdp = image.rsdp();
            image.put32(rsdp + 16, 0xFFFF0000L);
            image.fixChecksum(rsdp, 20, 8);
            image.put64(rsdp + 24, 0);
            image.fixChecksum(rsdp, 36, 32);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertTrue(t.log().contains("acpi: RSDT table at 0x00000000ffff0000 lies outside physical memory; ignoring it\n"),
                    t.log());
            assertBootCpuOnly(t, Defect.NO_ROOT_TABLE);
        }
    }

    @Test
    void xsdtPointingOutsideMemoryFallsBackToTheRsdt() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            DiscoveredTopology before = DiscoveredTopology.discover(image, 0);
            assertTrue(RootTable.isXsdt());
            long rsdp = image.rsdp();
            image.put64(rsdp + 24, 0x7_0000_0000L);
            image.fixChecksum(rsdp, 36, 32);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: XSDT table at 0x0000000700000000 lies outside physical memory; ignoring it",
                    "acpi: falling back to the RSDT"), t.log().lines().toList());
            assertFalse(RootTable.isXsdt());
            assertEquals(before.withoutLog(), t.withoutLog());
        }
    }

    @Test
    void xsdtEntryPointingOutsideMemoryIsSkipped() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            long xsdt = image.xsdt();
            image.put64(xsdt + 36, 0x10_0000_0000L);
            image.fixChecksum(xsdt);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertTrue(t.log().startsWith("acpi: XSDT entry 0x0000000000000000 points to"
                    + " 0x0000001000000000, outside physical memory; skipping it\n"), t.log());
            assertTrue(RootTable.isXsdt());
            assertEquals(8, t.cpus().size(), "the MADT, listed in another entry, is still found");
        }
    }

    @Test
    void badExtendedChecksumUsesTheRsdt() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            long rsdp = image.rsdp();
            image.put8(rsdp + 32, image.u8(rsdp + 32) + 1);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: RSDP at " + hex(rsdp)
                    + " is revision 2+ but its length or extended checksum is bad; ignoring the XSDT, using the RSDT"),
                    t.log().lines().toList());
            assertFalse(RootTable.isXsdt());
            assertEquals(Outcome.SMP, t.outcome());
            assertEquals(8, t.cpus().size());
        }
    }

    @Test
    void revisionZeroRsdpIsFollowedThroughTheRsdt() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            DiscoveredTopology before = DiscoveredTopology.discover(image, 0);
            long rsdp = image.rsdp();
            image.put8(rsdp + 15, 0);
            image.fixChecksum(rsdp, 20, 8);
            // A revision-0 RSDP has no XSDT field: make the bytes there unusable to prove it is not read.
            image.put64(rsdp + 24, 0x7_0000_0000L);
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals("", t.log());
            assertFalse(RootTable.isXsdt());
            assertEquals(before.withoutLog(), t.withoutLog());
        }
    }

    @Test
    void moreProcessorsThanCapacityKeepsTheFirstOnes() {
        try (PhysicalImage image = PhysicalImage.fixture("jkvm-smp300", 4 << 20)) {
            DiscoveredTopology t = DiscoveredTopology.discover(image, 299, 256, 4, 8, 4);
            assertEquals(Outcome.SMP_DEGRADED, t.outcome());
            assertEquals(Defect.CAPACITY_EXCEEDED, t.defects());
            assertEquals(256, t.cpus().size());
            assertEquals(299, t.cpus().getFirst().apicId(), "the boot CPU has a reserved slot");
            assertEquals(300 - 256, t.dropped());
            assertEquals(1, t.log().lines().count(), t.log());
            assertTrue(t.log().endsWith("does not fit the topology's capacity; ignoring it and any further ones that do not fit\n"));
        }
    }

    @Test
    void broadcastApicIdIsRejected() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            int victim = madt.indexOf(Madt.TYPE_LOCAL_APIC, 5);
            byte[] entry = madt.entries().get(victim).clone();
            entry[3] = (byte) 0xFF;
            image.replace("APIC", madt.with(victim, entry).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals(List.of("acpi: MADT entry at offset " + hex(madt.offsetOf(victim))
                    + " gives a processor the broadcast APIC ID 0xff; ignoring it"), t.log().lines().toList());
            assertEquals(7, t.cpus().size());
        }
    }

    @Test
    void allEntryTypesAreRecorded() {
        try (PhysicalImage image = sound("jkvm-smp8", 4 << 20, 8)) {
            MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
            List<byte[]> entries = new java.util.ArrayList<>(madt.entries());
            // §5.2.12.6 NMI Source: GSI 0x13, flags 0xD (level, active low).
            entries.add(new byte[] {3, 8, 0xD, 0, 0x13, 0, 0, 0});
            // §5.2.12.8 Local APIC Address Override to 0x1_2345_6000.
            entries.add(new byte[] {5, 12, 0, 0, 0, 0x60, 0x45, 0x23, 1, 0, 0, 0});
            // An unknown (OEM) type is stepped over.
            entries.add(new byte[] {(byte) 0x80, 5, 1, 2, 3});
            // §5.2.12.12 x2APIC entry for ID 0x1000, UID 0x2000, enabled.
            entries.add(new byte[] {9, 16, 0, 0, 0, 0x10, 0, 0, 1, 0, 0, 0, 0, 0x20, 0, 0});
            image.replace("APIC", new MadtBytes(madt.header(), entries).sealed());
            DiscoveredTopology t = DiscoveredTopology.discover(image, 0);
            assertEquals("", t.log());
            assertEquals(Outcome.SMP, t.outcome());
            assertEquals(0x1_2345_6000L, t.lapicAddress());
            assertEquals(new DiscoveredTopology.Nmi(Topology.NMI_SOURCE, 0x13, 0xD, 0), t.nmis().getLast());
            assertEquals(new DiscoveredTopology.Cpu(0x1000, 0x2000, Topology.CPU_ENABLED | Topology.CPU_X2APIC_ENTRY),
                    t.cpus().getLast());
        }
    }
}
