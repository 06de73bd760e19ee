package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The RSDP (ACPI 6.5 §5.2.5.3). iasl cannot disassemble a bare RSDP, but its data-table compiler
 * builds one from field values and computes both checksums itself; ours must match it byte for
 * byte.
 */
class RsdpTest {
    @TempDir
    Path dir;

    @Test
    void matchesTheRsdpIaslCompilesFromTheSameFields() {
        Map<String, byte[]> tables = AcpiTables.build(AcpiConfig.forCpus(4), GuestLayout.ACPI_BASE);
        byte[] ours = tables.get("RSDP");
        ByteBuffer b = ByteBuffer.wrap(ours).order(ByteOrder.LITTLE_ENDIAN);
        long rsdt = b.getInt(16) & 0xFFFF_FFFFL;
        long xsdt = b.getLong(24);
        Acpica.write(dir, "rsdp.asl", String.format("""
                [0008]                          Signature : "RSD PTR "
                [0001]                           Checksum : 00
                [0006]                             Oem ID : "JKVM  "
                [0001]                           Revision : 02
                [0004]                       RSDT Address : %08X
                [0004]                             Length : 00000024
                [0008]                       XSDT Address : %016X
                [0001]                  Extended Checksum : 00
                [0003]                           Reserved : 000000
                """, rsdt, xsdt).getBytes());
        byte[] reference = Acpica.compile(dir, "rsdp.asl", "rsdp");
        assertArrayEquals(reference, ours);

        // And the pointers lead where they should in the same table set.
        long base = GuestLayout.ACPI_BASE;
        assertTrue(xsdt > base && rsdt > base);
        assertEquals("XSDT", new String(tables.get("XSDT"), 0, 4));
        assertEquals("RSDT", new String(tables.get("RSDT"), 0, 4));
    }

    @Test
    void iaslComputesDifferentChecksumsWhenAFieldDiffers() {
        // The oracle is not blind: the same source with another XSDT address gives other bytes.
        byte[] ours = AcpiTables.build(AcpiConfig.forCpus(4), GuestLayout.ACPI_BASE).get("RSDP");
        Acpica.write(dir, "other.asl", """
                [0008]                          Signature : "RSD PTR "
                [0001]                           Checksum : 00
                [0006]                             Oem ID : "JKVM  "
                [0001]                           Revision : 02
                [0004]                       RSDT Address : 00000000
                [0004]                             Length : 00000024
                [0008]                       XSDT Address : 0000000000000000
                [0001]                  Extended Checksum : 00
                [0003]                           Reserved : 000000
                """.getBytes());
        byte[] reference = Acpica.compile(dir, "other.asl", "other");
        assertFalse(java.util.Arrays.equals(reference, ours));
        int sum = 0;
        for (int i = 0; i < 20; i++) sum += reference[i];
        assertEquals(0, sum & 0xFF, "iasl fixed up the checksum itself");
    }
}
