package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The DSDT against iasl: the same AML as the ASL compiler emits, and a clean round trip. */
class DsdtTest {
    @TempDir
    Path dir;

    private static byte[] dsdt() {
        return AcpiTables.build(AcpiConfig.forCpus(1), GuestLayout.ACPI_BASE).get("DSDT");
    }

    @Test
    void bodyIsWhatIaslCompilesFromTheAsl() {
        Acpica.write(dir, "ref.asl", """
                DefinitionBlock ("", "DSDT", 2, "JKVM  ", "JKVMDSDT", 1)
                {
                    Name (_S0, Package () { 0, 0, 0, 0 })
                    Name (_S5, Package () { 5, 0, 0, 0 })
                }
                """.getBytes());
        byte[] reference = Acpica.compile(dir, "ref.asl", "ref");
        byte[] ours = dsdt();
        assertArrayEquals(Arrays.copyOfRange(reference, 36, reference.length), Arrays.copyOfRange(ours, 36, ours.length),
                "AML body after the 36-byte header");
        assertArrayEquals(Arrays.copyOfRange(reference, 0, 9), Arrays.copyOfRange(ours, 0, 9), "signature, length, revision");
        assertArrayEquals(Arrays.copyOfRange(reference, 10, 28), Arrays.copyOfRange(ours, 10, 28), "OEM ID, OEM table ID, OEM revision");
    }

    @Test
    void disassemblesWithoutComplaintAndRecompilesWithZeroErrors() {
        Dsl dsl = Acpica.disassemble(dir, "dsdt", dsdt());
        assertEquals(List.of(), dsl.complaints(), dsl.text);
        String asl = dsl.text.replaceAll("//[^\n]*", "").replaceAll("\\s+", " ");
        assertTrue(dsl.text.contains("DefinitionBlock (\"\", \"DSDT\", 2, \"JKVM  \", \"JKVMDSDT\", 0x00000001)"), dsl.text);
        assertTrue(asl.contains("Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero })"), dsl.text);
        assertTrue(asl.contains("Name (_S0, Package (0x04) { Zero, Zero, Zero, Zero })"), dsl.text);
        byte[] recompiled = Acpica.compile(dir, "dsdt.dsl", "recompiled");
        byte[] ours = dsdt();
        assertArrayEquals(Arrays.copyOfRange(ours, 36, ours.length), Arrays.copyOfRange(recompiled, 36, recompiled.length));
    }

    @Test
    void iaslFlagsABadChecksum() {
        byte[] bad = dsdt().clone();
        bad[9] ^= 0x01;
        Dsl dsl = Acpica.disassemble(dir, "bad", bad);
        assertFalse(dsl.complaints().isEmpty(), "the oracle must notice a wrong checksum:\n" + dsl.text);
    }
}
