package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Whole-set properties from ACPI 6.5 §5.2: every table's bytes sum to zero, the header length
 * is the real length, and an OS that scans the BIOS area for the RSDP (§5.2.5.1) reaches every
 * table through the XSDT and the RSDT.
 */
class AcpiTablesTest {
    private static final int MIB = 1 << 20;

    static int sum(byte[] b, int from, int to) {
        int s = 0;
        for (int i = from; i < to; i++) s += b[i] & 0xFF;
        return s & 0xFF;
    }

    static ByteBuffer le(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN); }

    static String ascii(byte[] b, int from, int len) { return new String(b, from, len, StandardCharsets.US_ASCII); }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8, 255, 300})
    void everyTableChecksumsToZeroAndStatesItsLength(int cpus) {
        Map<String, byte[]> tables = AcpiTables.build(AcpiConfigs.numa(cpus, 2), GuestLayout.ACPI_BASE);
        assertEquals(List.of("RSDP", "FACS", "DSDT", "FACP", "APIC", "SRAT", "XSDT", "RSDT"), List.copyOf(tables.keySet()));
        for (var e : tables.entrySet()) {
            byte[] t = e.getValue();
            switch (e.getKey()) {
                case "RSDP" -> {
                    assertEquals(36, t.length);
                    assertEquals(0, sum(t, 0, 20), "RSDP checksum over the ACPI 1.0 part");
                    assertEquals(0, sum(t, 0, 36), "RSDP extended checksum");
                    assertEquals(36, le(t).getInt(20));
                    assertEquals(2, t[15]);
                }
                case "FACS" -> {
                    assertEquals("FACS", ascii(t, 0, 4));
                    assertEquals(64, le(t).getInt(4));
                    assertEquals(64, t.length);
                }
                default -> {
                    assertEquals(e.getKey(), ascii(t, 0, 4));
                    assertEquals(t.length, le(t).getInt(4), e.getKey() + " length field");
                    assertEquals(0, sum(t, 0, t.length), e.getKey() + " checksum");
                    assertEquals("JKVM  ", ascii(t, 10, 6));
                }
            }
        }
        assertEquals(276, tables.get("FACP").length, "ACPI 6.5 FADT size");
    }

    @Test
    void noSratWithoutNumaNodes() {
        assertFalse(AcpiTables.build(AcpiConfig.forCpus(4), GuestLayout.ACPI_BASE).containsKey("SRAT"));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 300})
    void anOsScanningTheBiosAreaFindsEveryTable(int cpus) {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = new GuestMemory();
            mem.addRegion(0, arena.allocate(2 * MIB));
            mem.fill(0, 2 * MIB, (byte) 0x5A); // stale bytes must not survive the install
            long rsdp = AcpiTables.install(mem, AcpiConfigs.numa(cpus, 2));
            assertEquals(GuestLayout.ACPI_BASE, rsdp);

            long found = scanForRsdp(mem);
            assertEquals(rsdp, found);
            byte[] r = mem.read(found, 36);
            long rsdtAt = le(r).getInt(16) & 0xFFFF_FFFFL;
            long xsdtAt = le(r).getLong(24);

            List<String> viaXsdt = new ArrayList<>();
            byte[] xsdt = table(mem, xsdtAt, "XSDT");
            for (int off = 36; off < xsdt.length; off += 8) viaXsdt.add(signatureAt(mem, le(xsdt).getLong(off)));
            List<String> viaRsdt = new ArrayList<>();
            byte[] rsdt = table(mem, rsdtAt, "RSDT");
            for (int off = 36; off < rsdt.length; off += 4) viaRsdt.add(signatureAt(mem, le(rsdt).getInt(off) & 0xFFFF_FFFFL));
            assertEquals(List.of("FACP", "APIC", "SRAT"), viaXsdt);
            assertEquals(viaXsdt, viaRsdt);

            long fadtAt = le(xsdt).getLong(36);
            byte[] fadt = table(mem, fadtAt, "FACP");
            long facsAt = le(fadt).getInt(36) & 0xFFFF_FFFFL;
            assertEquals(0, facsAt % 64, "ACPI 6.5 §5.2.10: the FACS is 64-byte aligned");
            assertEquals("FACS", signatureAt(mem, facsAt));
            assertEquals(le(fadt).getInt(40) & 0xFFFF_FFFFL, le(fadt).getLong(140), "DSDT and X_DSDT agree");
            table(mem, le(fadt).getLong(140), "DSDT");

            // Everything lies in the window, none of the filler survived inside it.
            for (String sig : List.of("FACP", "APIC", "SRAT")) {
                long at = sig.equals("FACP") ? fadtAt : le(xsdt).getLong(36 + 8 * viaXsdt.indexOf(sig));
                assertTrue(at >= GuestLayout.ACPI_BASE && at < GuestLayout.ACPI_END);
            }
            assertNotEquals((byte) 0x5A, mem.read8(rsdp + 36), "gap after the RSDP is zeroed");
        }
    }

    @Test
    void tooManyCpusForTheWindowFailsWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                GuestMemory mem = new GuestMemory();
                mem.addRegion(0, arena.allocate(2 * MIB));
                AcpiTables.install(mem, AcpiConfigs.numa(6000, 2));
            }
        });
        assertTrue(e.getMessage().contains("0xE0000-0xFFFFF") && e.getMessage().contains("6000 CPUs"), e.getMessage());
    }

    @Test
    void missingRamUnderTheWindowFailsWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                GuestMemory mem = new GuestMemory();
                mem.addRegion(0, arena.allocate(640 * 1024));
                AcpiTables.install(mem, AcpiConfig.forCpus(1));
            }
        });
        assertTrue(e.getMessage().contains("RAM"), e.getMessage());
    }

    @Test
    void buildHonoursTheBaseAddress() {
        long base = 0x7000_0000L;
        Map<String, byte[]> t = AcpiTables.build(AcpiConfig.forCpus(2), base);
        long xsdt = le(t.get("RSDP")).getLong(24);
        assertTrue(xsdt > base && xsdt < base + 0x10000, Long.toHexString(xsdt));
        assertThrows(IllegalArgumentException.class, () -> AcpiTables.build(AcpiConfig.forCpus(2), base + 8));
    }

    /** ACPI 6.5 §5.2.5.1: the RSDP is on a 16-byte boundary in 0xE0000–0xFFFFF with a valid checksum. */
    private static long scanForRsdp(GuestMemory mem) {
        for (long a = 0xE0000; a < 0x100000; a += 16) {
            byte[] b = mem.read(a, 20);
            if (ascii(b, 0, 8).equals("RSD PTR ") && sum(b, 0, 20) == 0) return a;
        }
        throw new AssertionError("no RSDP in the BIOS area");
    }

    private static String signatureAt(GuestMemory mem, long gpa) {
        return ascii(mem.read(gpa, 4), 0, 4);
    }

    private static byte[] table(GuestMemory mem, long gpa, String signature) {
        assertEquals(signature, signatureAt(mem, gpa));
        int length = mem.read32(gpa + 4);
        byte[] t = mem.read(gpa, length);
        assertEquals(0, sum(t, 0, length), signature + " checksum in guest memory");
        return t;
    }
}
