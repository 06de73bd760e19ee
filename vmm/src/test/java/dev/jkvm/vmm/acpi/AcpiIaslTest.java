package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The independent check for the whole table set: every table goes to a file, ACPICA's iasl
 * disassembles it (validating lengths, checksums and subtable layouts as it goes), and the
 * disassembly compiles back into the same bytes. A field iasl read differently from how we
 * wrote it would not survive the round trip.
 */
class AcpiIaslTest {
    @TempDir
    Path dir;

    /** Bytes iasl's compiler sets itself: the checksum and its own creator ID and revision. */
    private static final int CHECKSUM = 9;
    private static final int CREATOR_FROM = 28;
    private static final int CREATOR_TO = 36;

    @ParameterizedTest
    @ValueSource(ints = {1, 255, 300})
    void everyTableDisassemblesCleanlyAndRecompilesToTheSameBytes(int cpus) {
        Map<String, byte[]> tables = AcpiTables.build(AcpiConfigs.numa(cpus, 2), GuestLayout.ACPI_BASE);
        for (var e : tables.entrySet()) {
            String sig = e.getKey();
            if (sig.equals("RSDP")) continue; // iasl has no RSDP disassembler; RsdpTest compiles one instead
            String name = sig.toLowerCase();
            byte[] ours = e.getValue();
            Dsl dsl = Acpica.disassemble(dir, name, ours);
            assertEquals(List.of(), dsl.complaints(), sig + ": iasl complaints\n" + dsl.text);

            byte[] again = Acpica.compile(dir, name + ".dsl", name + "_again");
            assertEquals(ours.length, again.length, sig + " length after the round trip");
            if (sig.equals("FACS")) {
                assertArrayEquals(ours, again, "FACS has no header to rewrite");
                continue;
            }
            if (sig.equals("DSDT")) assertTrue(dsl.text.contains("DefinitionBlock (\"\", \"DSDT\", 2"), dsl.text);
            else assertEquals("\"" + sig + "\"", dsl.first("Signature").token());
            for (int i = 0; i < ours.length; i++) {
                if (i == CHECKSUM || (i >= CREATOR_FROM && i < CREATOR_TO)) continue;
                if (sig.equals("DSDT") && i < SdtHeader.SIZE) continue; // AML recompiles with its own header
                int at = i;
                assertEquals(ours[i], again[i], () -> sig + " byte " + at + " differs after the iasl round trip");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"APIC", "FACP", "SRAT", "XSDT", "RSDT"})
    void iaslReportsACorruptedChecksum(String sig) {
        byte[] t = AcpiTables.build(AcpiConfigs.numa(4, 2), GuestLayout.ACPI_BASE).get(sig).clone();
        t[t.length - 1] ^= 0x10;
        Dsl dsl = Acpica.disassemble(dir, "bad", t);
        assertTrue(dsl.complaints().stream().anyMatch(l -> l.contains("Incorrect checksum")), dsl.text);
        assertFalse(Arrays.equals(t, AcpiTables.build(AcpiConfigs.numa(4, 2), GuestLayout.ACPI_BASE).get(sig)));
    }
}
