package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Port;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Broken and unusual variants of real FADTs and DSDTs: each defect leads to the documented path
 * (SoftOff.UNAVAILABLE with its reason, so the kernel falls back to isa-debug-exit) and the
 * usual "acpi: ..." line where a table check fails; unusual but valid AML encodings of \_S5 are
 * decoded to what iasl reads from the same bytes. Every variant starts from a fixture shown to be
 * sound first. The timeout only guards against a scan that would not end.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BrokenSoftOffTablesTest {
    private static final String FIXTURES = "jkvm-smp8, 4194304\nqemu-q35-smp4, 33554432";
    /** §5.2.9 FADT offsets, from the specification's table (not from the code under test). */
    private static final int FADT_DSDT = 40;
    private static final int FADT_PM1A_CNT_BLK = 64;
    private static final int FADT_FLAGS = 112;
    private static final int FADT_X_DSDT = 140;
    private static final int FADT_X_PM1A_CNT_BLK = 172;
    private static final int FADT_SLEEP_CONTROL_REG = 244;
    private static final byte[] S5 = "_S5_".getBytes(StandardCharsets.US_ASCII);

    @BeforeEach
    void clearPorts() {
        Port.hostPorts().clear();
    }

    private static String hex(long value) {
        return String.format("0x%016x", value);
    }

    private record Result(int path, int reason, List<String> log) {}

    private static Result prepare(PhysicalImage image) {
        DiscoveredTopology.discover(image, 0);
        Console.hostClear();
        int path = SoftOff.prepare();
        assertEquals(path, SoftOff.path());
        return new Result(path, SoftOff.reason(), Console.hostOutput().lines().toList());
    }

    private static PhysicalImage sound(String fixture, long ramSize) {
        PhysicalImage image = PhysicalImage.fixture(fixture, ramSize);
        Result before = prepare(image);
        assertEquals(SoftOff.PM1_CONTROL, before.path(), before.log()::toString);
        assertEquals(List.of(), before.log());
        return image;
    }

    private static long dsdt(PhysicalImage image) {
        return image.u32(image.table("FACP") + FADT_DSDT);
    }

    /** Points the FADT's DSDT fields at a new DSDT and reseals the FADT. */
    private static long replaceDsdt(PhysicalImage image, byte[] dsdt) {
        long at = image.place(dsdt);
        long fadt = image.table("FACP");
        image.put32(fadt + FADT_DSDT, at);
        if (image.length(fadt) >= FADT_X_DSDT + 8) {
            image.put64(fadt + FADT_X_DSDT, at);
        }
        image.fixChecksum(fadt);
        return at;
    }

    /** A DSDT with the fixture's header and this AML as its whole body. */
    private static byte[] dsdtWithBody(PhysicalImage image, byte[] aml) {
        byte[] header = image.read(dsdt(image), SdtHeader.SIZE);
        byte[] table = Arrays.copyOf(header, SdtHeader.SIZE + aml.length);
        System.arraycopy(aml, 0, table, SdtHeader.SIZE, aml.length);
        return PhysicalImage.sealed(table);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void assertUnavailable(Result r, int reason, List<String> log) {
        assertEquals(SoftOff.UNAVAILABLE, r.path(), r.log()::toString);
        assertEquals(reason, r.reason(), r.log()::toString);
        assertEquals(log, r.log());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void badFadtChecksumMeansNoSoftOff(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long fadt = image.table("FACP");
            image.put8(fadt + 9, image.u8(fadt + 9) + 1);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_FADT,
                    List.of("acpi: FACP table at " + hex(fadt) + " has a bad checksum; ignoring it"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void missingFadtMeansNoSoftOff(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long fadt = image.table("FACP");
            image.write(fadt, "NOPE".getBytes(StandardCharsets.US_ASCII));
            image.fixChecksum(fadt);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_FADT, List.of());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void fadtShorterThanAcpi1IsNotRead(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            image.replace("FACP", PhysicalImage.sealed(Arrays.copyOf(image.tableBytes("FACP"), 100)));
            assertUnavailable(prepare(image), SoftOff.REASON_FADT_TOO_SHORT, List.of());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void fadtWithoutPm1aControlBlock(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long fadt = image.table("FACP");
            image.put32(fadt + FADT_PM1A_CNT_BLK, 0);
            if (image.length(fadt) >= FADT_X_PM1A_CNT_BLK + 12) {
                image.write(fadt + FADT_X_PM1A_CNT_BLK, new byte[12]);
            }
            image.fixChecksum(fadt);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_PM1A_CONTROL, List.of());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void hardwareReducedFadtWithoutSleepControlRegister(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long fadt = image.table("FACP");
            image.put32(fadt + FADT_FLAGS, image.u32(fadt + FADT_FLAGS) | 1 << 20);
            image.fixChecksum(fadt);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_SLEEP_CONTROL, List.of());
        }
    }

    /** §4.8.3.7: SLP_TYP in bits 2-4, SLP_EN bit 5, here in an I/O-space register the host can simulate. */
    @Test
    void hardwareReducedFadtWithAnIoSleepControlRegister() throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = sound("jkvm-smp8", 4194304)) {
            long fadt = image.table("FACP");
            int port = 0x700;
            image.put32(fadt + FADT_FLAGS, image.u32(fadt + FADT_FLAGS) | 1 << 20);
            image.write(fadt + FADT_SLEEP_CONTROL_REG, new byte[] {1, 8, 0, 1, (byte) port, (byte) (port >> 8), 0, 0, 0, 0, 0, 0});
            image.fixChecksum(fadt);
            IaslSoftOff.FadtFields oracle = IaslSoftOff.fadt(image.tableBytes("FACP"));
            assertTrue(oracle.hardwareReduced());
            assertEquals(new IaslSoftOff.Register(GenericAddress.SPACE_IO, port), oracle.sleepControl());
            long s5 = IaslSoftOff.sleepPackages(image.read(oracle.dsdt(), (int) image.length(oracle.dsdt()))).get("_S5").get(0);

            Result r = prepare(image);
            assertEquals(SoftOff.SLEEP_CONTROL, r.path(), r.log()::toString);
            SoftOff.request();
            assertEquals((int) (s5 << 2) | 1 << 5, Port.hostPorts().get(port));
            assertEquals(null, Port.hostPorts().get(0x604), "PM1a_CNT is not used on a hardware-reduced platform");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void badDsdtChecksumMeansNoSoftOff(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long dsdt = dsdt(image);
            image.put8(dsdt + 9, image.u8(dsdt + 9) + 1);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_DSDT,
                    List.of("acpi: DSDT table at " + hex(dsdt) + " has a bad checksum; ignoring it"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void dsdtOutsideMemoryMeansNoSoftOff(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long fadt = image.table("FACP");
            image.put32(fadt + FADT_DSDT, ramSize + 0x1000);
            if (image.length(fadt) >= FADT_X_DSDT + 8) {
                image.put64(fadt + FADT_X_DSDT, ramSize + 0x1000);
            }
            image.fixChecksum(fadt);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_DSDT,
                    List.of("acpi: DSDT table at " + hex(ramSize + 0x1000) + " lies outside physical memory; ignoring it"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void dsdtWithoutS5MeansNoSoftOff(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long dsdt = dsdt(image);
            byte[] bytes = image.read(dsdt, (int) image.length(dsdt));
            int name = indexOf(bytes, S5);
            image.put8(dsdt + name + 2, '4');
            image.fixChecksum(dsdt);
            assertUnavailable(prepare(image), SoftOff.REASON_NO_S5, List.of());
        }
    }

    /**
     * The DSDT's length cut at every point around the \_S5 declaration (checksum resealed, the
     * bytes after the cut left in memory): the scan must not read past the declared end, so the
     * package is found only when it lies wholly inside, is malformed when the cut goes through
     * it, and absent when the cut comes before its PackageOp.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void truncatedAmlIsNeverReadPastTheTableEnd(String fixture, long ramSize) {
        try (PhysicalImage image = sound(fixture, ramSize)) {
            long dsdt = dsdt(image);
            int length = (int) image.length(dsdt);
            byte[] original = image.read(dsdt, length);
            int name = indexOf(original, S5);
            int lead = original[name + 5] & 0xFF;
            assertTrue(lead < 0x40, "a one-byte PkgLength in the fixture");
            int packageEnd = name + 5 + lead;
            for (int cut = name - 2; cut <= packageEnd + 1; cut++) {
                image.write(dsdt, original);
                image.put32(dsdt + 4, cut);
                image.fixChecksum(dsdt, cut, 9);
                Result r = prepare(image);
                String at = "cut at " + cut + " (name at " + name + ", package end " + packageEnd + ")";
                if (cut < name + 5) {
                    assertEquals(SoftOff.REASON_NO_S5, r.reason(), at);
                } else if (cut < packageEnd) {
                    assertEquals(SoftOff.REASON_BAD_S5, r.reason(), at);
                } else {
                    assertEquals(SoftOff.PM1_CONTROL, r.path(), at);
                }
                assertEquals(List.of(), r.log(), at);
            }
        }
    }

    /** Broken \_S5 packages in an otherwise valid DSDT: each is MALFORMED, so there is no soft-off. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // A String (0x0D) where an integer must be.
        "08 5F 53 35 5F 12 07 02 0D 41 00 0A 00",
        // No elements.
        "08 5F 53 35 5F 12 02 00",
        // SLP_TYP 9 does not fit the 3-bit field.
        "08 5F 53 35 5F 12 06 02 0A 09 0A 00",
        // The PkgLength runs past the table's end.
        "08 5F 53 35 5F 12 3F 02 0A 05 00",
        // A two-byte PkgLength with reserved bits 4-5 of its lead byte set.
        "08 5F 53 35 5F 12 75 00 02 0A 05 00",
        // The second element is missing although two are declared.
        "08 5F 53 35 5F 12 04 02 0A 05",
        // A Word prefix whose value bytes lie outside the package.
        "08 5F 53 35 5F 12 04 02 00 0B 05",
        // PackageOp as the last byte of the table.
        "08 5F 53 35 5F 12",
    })
    void malformedS5Package(String aml) {
        try (PhysicalImage image = sound("jkvm-smp8", 4194304)) {
            replaceDsdt(image, dsdtWithBody(image, bytes(aml)));
            assertUnavailable(prepare(image), SoftOff.REASON_BAD_S5, List.of());
        }
    }

    /**
     * Valid encodings firmware may use: the root prefix, a one-element ACPI 1.0 package, a
     * two-byte PkgLength, Word and DWord constants, and "_S5_" bytes inside a Buffer before the
     * real declaration. iasl decodes the same bytes; the scan must read what it reads.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "root prefix,          08 5C 5F 53 35 5F 12 07 04 0A 05 00 00 00",
        "one element,          08 5F 53 35 5F 12 05 01 0B 05 03",
        "two-byte PkgLength,   08 5F 53 35 5F 12 49 00 04 0A 05 0A 03 00 00",
        "word and dword,       08 5F 53 35 5F 12 0A 02 0B 05 00 0C 01 00 00 00",
        "decoy in a buffer,    08 42 55 46 30 11 09 0A 06 5F 53 35 5F 12 07 08 5F 53 35 5F 12 06 02 0A 07 0A 02",
        "after _S0,            08 5F 53 30 5F 12 06 04 00 00 00 00 08 5F 53 35 5F 12 06 02 0A 06 0A 01",
    })
    void unusualButValidS5Encodings(String what, String aml) throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = sound("jkvm-smp8", 4194304)) {
            byte[] table = dsdtWithBody(image, bytes(aml));
            List<Long> oracle = IaslSoftOff.sleepPackages(table).get("_S5");
            long typeA;
            long typeB;
            if (oracle.size() == 1) {
                // ACPI 1.0 form: SLP_TYPa in the low byte, SLP_TYPb in the next.
                typeA = oracle.get(0) & 0xFF;
                typeB = oracle.get(0) >> 8;
            } else {
                typeA = oracle.get(0);
                typeB = oracle.get(1);
            }
            replaceDsdt(image, table);
            Result r = prepare(image);
            assertEquals(SoftOff.PM1_CONTROL, r.path(), what + ": " + r.log());
            assertEquals(typeA, SleepPackage.typeA(), what);
            assertEquals(typeB, SleepPackage.typeB(), what);
        }
    }

    /** A DSDT of random bytes at many lengths: the scan ends and reports one of its three outcomes. */
    @Test
    void randomAmlNeverBreaksTheScan() {
        java.util.Random random = new java.util.Random(20261125);
        try (PhysicalImage image = sound("jkvm-smp8", 4194304)) {
            for (int round = 0; round < 300; round++) {
                byte[] aml = new byte[random.nextInt(200)];
                random.nextBytes(aml);
                // Seed some rounds with the declaration's first bytes so the decoder runs, not just the scan.
                if (aml.length > 8 && round % 2 == 0) {
                    int at = random.nextInt(aml.length - 6);
                    System.arraycopy(new byte[] {8, '_', 'S', '5', '_', 0x12}, 0, aml, at, 6);
                }
                replaceDsdt(image, dsdtWithBody(image, aml));
                Result r = prepare(image);
                assertTrue(r.reason() == SoftOff.REASON_NONE || r.reason() == SoftOff.REASON_NO_S5
                        || r.reason() == SoftOff.REASON_BAD_S5, "round " + round + ": " + r);
                if (r.path() == SoftOff.PM1_CONTROL) {
                    assertTrue(SleepPackage.typeA() <= 7 && SleepPackage.typeB() <= 7);
                }
            }
        }
    }

    private static byte[] bytes(String hex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String b : hex.trim().split("\\s+")) {
            out.write(Integer.parseInt(b, 16));
        }
        return out.toByteArray();
    }
}
