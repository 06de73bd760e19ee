package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The SRAT as iasl reads it (ACPI 6.5 §5.2.16). */
class SratTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 300})
    void everyCpuAndNodeHasItsAffinityEntry(int cpus) {
        int nodes = Math.min(cpus, 3);
        AcpiConfig cfg = AcpiConfigs.numa(cpus, nodes);
        Dsl dsl = Acpica.disassemble(dir, "srat", AcpiTables.build(cfg, GuestLayout.ACPI_BASE).get("SRAT"));
        assertEquals(List.of(), dsl.complaints(), "iasl complaints about the SRAT");
        assertEquals("\"SRAT\"", dsl.first("Signature").token());
        assertEquals(1, dsl.first("Table Revision").hex(), "§5.2.16: the reserved field after the header is 1");

        int xapic = Math.min(cpus, 255);
        assertEquals(xapic, dsl.countSubtables("00"), "Processor Local APIC affinity entries");
        assertEquals(cpus - xapic, dsl.countSubtables("02"), "Processor Local x2APIC affinity entries");
        assertEquals(nodes, dsl.countSubtables("01"), "Memory affinity entries");

        // AcpiConfigs.numa puts CPU c into node c % nodes.
        List<Dsl.Field> apicIds = dsl.inSubtables("00", "Apic ID");
        List<Dsl.Field> domains = dsl.inSubtables("00", "Proximity Domain Low(8)");
        for (int c = 0; c < xapic; c++) {
            assertEquals(c, apicIds.get(c).hex());
            assertEquals(c % nodes, domains.get(c).hex(), "domain of CPU " + c);
        }
        List<Dsl.Field> x2ids = dsl.inSubtables("02", "Apic ID");
        List<Dsl.Field> x2domains = dsl.inSubtables("02", "Proximity Domain");
        for (int i = 0; i < cpus - xapic; i++) {
            int c = 255 + i;
            assertEquals(c, x2ids.get(i).hex());
            assertEquals(c % nodes, x2domains.get(i).hex(), "domain of CPU " + c);
        }
        List<Dsl.Field> memDomains = dsl.inSubtables("01", "Proximity Domain");
        List<Dsl.Field> bases = dsl.inSubtables("01", "Base Address");
        List<Dsl.Field> lengths = dsl.inSubtables("01", "Address Length");
        List<Dsl.Field> flags = dsl.inSubtables("01", "Flags (decoded below)");
        for (int n = 0; n < nodes; n++) {
            assertEquals(n, memDomains.get(n).hex());
            assertEquals(n * AcpiConfigs.GIB, bases.get(n).hex());
            assertEquals(AcpiConfigs.GIB, lengths.get(n).hex());
            assertEquals(1, flags.get(n).hex(), "enabled, not hot-pluggable, not non-volatile");
        }
    }

    @Test
    void wideProximityDomainsSurviveTheSplitField() {
        AcpiConfig cfg = AcpiConfig.forCpus(2).withNumaNodes(List.of(
                new NumaNode(0x123456, 0, AcpiConfigs.GIB, List.of(0)),
                new NumaNode(7, AcpiConfigs.GIB, AcpiConfigs.GIB, List.of(1))));
        Dsl dsl = Acpica.disassemble(dir, "srat", AcpiTables.build(cfg, GuestLayout.ACPI_BASE).get("SRAT"));
        assertEquals(0x56, dsl.inSubtables("00", "Proximity Domain Low(8)").get(0).hex());
        assertEquals(0x1234, dsl.inSubtables("00", "Proximity Domain High(24)").get(0).hex());
        assertEquals(0x123456, dsl.inSubtables("01", "Proximity Domain").get(0).hex());
    }

    @Test
    void numaMistakesAreRejectedWithTheFix() {
        AcpiConfig two = AcpiConfig.forCpus(2);
        assertMessage("in no NUMA node", () -> two.withNumaNodes(List.of(new NumaNode(0, 0, AcpiConfigs.GIB, List.of(0)))));
        assertMessage("put it in one node", () -> two.withNumaNodes(List.of(
                new NumaNode(0, 0, AcpiConfigs.GIB, List.of(0, 1)), new NumaNode(1, AcpiConfigs.GIB, AcpiConfigs.GIB, List.of(1)))));
        assertMessage("overlaps", () -> two.withNumaNodes(List.of(
                new NumaNode(0, 0, AcpiConfigs.GIB, List.of(0)), new NumaNode(1, AcpiConfigs.GIB / 2, AcpiConfigs.GIB, List.of(1)))));
        assertMessage("only 2 CPUs", () -> two.withNumaNodes(List.of(new NumaNode(0, 0, AcpiConfigs.GIB, List.of(0, 1, 2)))));
        assertMessage("appears twice", () -> two.withNumaNodes(List.of(
                new NumaNode(0, 0, AcpiConfigs.GIB, List.of(0)), new NumaNode(0, AcpiConfigs.GIB, AcpiConfigs.GIB, List.of(1)))));
        assertMessage("no memory", () -> new NumaNode(0, 0, 0, List.of(0)));
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
    }
}
