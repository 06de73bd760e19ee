package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The MADT as ACPICA's disassembler reads it (ACPI 6.5 §5.2.12). Expected counts come from the
 * spec's rule, not from the builder: xAPIC IDs 0..254 get Processor Local APIC entries (type 0),
 * larger IDs Processor Local x2APIC entries (type 9, §5.2.12.12).
 */
class MadtTest {
    @TempDir
    Path dir;

    private Dsl disassemble(AcpiConfig cfg) {
        byte[] madt = AcpiTables.build(cfg, GuestLayout.ACPI_BASE).get("APIC");
        Dsl dsl = Acpica.disassemble(dir, "apic", madt);
        assertEquals(List.of(), dsl.complaints(), "iasl complaints about the MADT");
        return dsl;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8, 255, 300})
    void oneEnabledProcessorEntryPerCpuAndTheFixedPlatformEntries(int cpus) {
        Dsl dsl = disassemble(AcpiConfig.forCpus(cpus));
        assertEquals("\"APIC\"", dsl.first("Signature").token());
        assertEquals(0xFEE0_0000L, dsl.first("Local Apic Address").hex());

        int xapic = Math.min(cpus, 255);
        int x2apic = cpus - xapic;
        assertEquals(xapic, dsl.countSubtables("00"), "Processor Local APIC entries");
        assertEquals(x2apic, dsl.countSubtables("09"), "Processor Local x2APIC entries");
        assertEquals(1, dsl.countSubtables("01"), "I/O APIC entries");
        assertEquals(2, dsl.countSubtables("02"), "Interrupt Source Overrides");
        assertEquals(1, dsl.countSubtables("04"), "Local APIC NMI entries");
        assertEquals(x2apic > 0 ? 1 : 0, dsl.countSubtables("0A"), "Local x2APIC NMI entries");
        assertEquals(xapic + x2apic + 1 + 2 + 1 + (x2apic > 0 ? 1 : 0), dsl.all("Subtable Type").size(), "no other entries");

        List<Dsl.Field> uids = dsl.inSubtables("00", "Processor ID");
        List<Dsl.Field> ids = dsl.inSubtables("00", "Local Apic ID");
        for (int i = 0; i < xapic; i++) {
            assertEquals(i, uids.get(i).hex(), "ACPI processor UID of CPU " + i);
            assertEquals(i, ids.get(i).hex(), "APIC ID of CPU " + i);
        }
        List<Dsl.Field> x2uids = dsl.inSubtables("09", "Processor UID");
        List<Dsl.Field> x2ids = dsl.inSubtables("09", "Processor x2Apic ID");
        for (int i = 0; i < x2apic; i++) {
            assertEquals(255 + i, x2uids.get(i).hex());
            assertEquals(255 + i, x2ids.get(i).hex());
        }
        // Every processor entry is enabled (flags bit 0), both kinds.
        for (String type : List.of("00", "09")) {
            for (Dsl.Field f : dsl.inSubtables(type, "Flags (decoded below)")) assertEquals(1, f.hex());
        }
    }

    @Test
    void platformInterruptWiring() {
        Dsl dsl = disassemble(AcpiConfig.forCpus(4));
        assertEquals(1, dsl.first("Flags (decoded below)").hex(), "MADT flags: PCAT_COMPAT");
        assertEquals(4, dsl.inSubtables("01", "I/O Apic ID").getFirst().hex(), "I/O APIC takes the first ID after the CPUs");
        assertEquals(0xFEC0_0000L, dsl.inSubtables("01", "Address").getFirst().hex());
        assertEquals(0, dsl.inSubtables("01", "Interrupt").getFirst().hex(), "GSI base");

        List<Dsl.Field> bus = dsl.inSubtables("02", "Bus");
        List<Dsl.Field> source = dsl.inSubtables("02", "Source");
        List<Dsl.Field> gsi = dsl.inSubtables("02", "Interrupt");
        List<Dsl.Field> flags = dsl.inSubtables("02", "Flags (decoded below)");
        assertEquals(0, bus.get(0).hex());
        assertEquals(0, source.get(0).hex());
        assertEquals(2, gsi.get(0).hex(), "PIT IRQ 0 arrives on GSI 2");
        assertEquals(0, flags.get(0).hex(), "conforming to ISA");
        assertEquals(0, bus.get(1).hex());
        assertEquals(9, source.get(1).hex());
        assertEquals(9, gsi.get(1).hex());
        assertEquals(0b11_01, flags.get(1).hex(), "SCI: level-triggered (11), active high (01)");

        assertEquals(0xFF, dsl.inSubtables("04", "Processor ID").getFirst().hex(), "all processors");
        assertEquals(0b01_01, dsl.inSubtables("04", "Flags (decoded below)").getFirst().hex(), "edge (01), active high (01)");
        assertEquals(1, dsl.inSubtables("04", "Interrupt Input LINT").getFirst().hex(), "LINT1");
    }

    @Test
    void x2apicNmiCoversAllProcessors() {
        Dsl dsl = disassemble(AcpiConfig.forCpus(300));
        assertEquals(0xFFFF_FFFFL, dsl.inSubtables("0A", "Processor UID").getFirst().hex());
        assertEquals(1, dsl.inSubtables("0A", "Interrupt Input LINT").getFirst().hex());
        assertEquals(0, dsl.inSubtables("01", "I/O Apic ID").getFirst().hex(),
                "no free 8-bit ID below the broadcast ID: the I/O APIC takes 0");
    }

    @Test
    void sparseApicIdsKeepTheirOrderAndKind() {
        AcpiConfig cfg = new AcpiConfig(List.of(0, 2, 4, 300, 301), 1, GuestLayout.LAPIC_BASE, GuestLayout.IOAPIC_BASE, List.of());
        Dsl dsl = disassemble(cfg);
        assertEquals(List.of(0L, 2L, 4L), dsl.inSubtables("00", "Local Apic ID").stream().map(Dsl.Field::hex).toList());
        assertEquals(List.of(0L, 1L, 2L), dsl.inSubtables("00", "Processor ID").stream().map(Dsl.Field::hex).toList());
        assertEquals(List.of(300L, 301L), dsl.inSubtables("09", "Processor x2Apic ID").stream().map(Dsl.Field::hex).toList());
        assertEquals(List.of(3L, 4L), dsl.inSubtables("09", "Processor UID").stream().map(Dsl.Field::hex).toList());
        assertEquals(1, dsl.inSubtables("01", "I/O Apic ID").getFirst().hex());
    }

    @Test
    void configurationMistakesAreRejectedWithTheFix() {
        var lapic = GuestLayout.LAPIC_BASE;
        var ioapic = GuestLayout.IOAPIC_BASE;
        assertMessage("unique", () -> new AcpiConfig(List.of(0, 0), 2, lapic, ioapic, List.of()));
        assertMessage("at least one", () -> new AcpiConfig(List.of(), 0, lapic, ioapic, List.of()));
        List<Integer> xapicIdAtIndex255 = new ArrayList<>(AcpiConfigs.range(1000, 1255));
        xapicIdAtIndex255.add(7);
        assertMessage("below 255 before", () -> new AcpiConfig(xapicIdAtIndex255, 0, lapic, ioapic, List.of()));
        assertMessage("8-bit", () -> new AcpiConfig(List.of(0), 256, lapic, ioapic, List.of()));
        assertMessage("below 4 GiB", () -> new AcpiConfig(List.of(0), 1, 0x1_0000_0000L, ioapic, List.of()));
        assertMessage("at least one vCPU", () -> AcpiConfig.forCpus(0));
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
    }
}
