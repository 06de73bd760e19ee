package dev.jkvm.vmm.acpi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The AML encoder. The oracle is iasl: a definition block built with {@link Aml} must
 * disassemble cleanly and recompile to the very same bytes, which exercises every PkgLength
 * size (§20.2.4) and every integer prefix (§20.2.3).
 */
class AcpiAmlTest {
    @TempDir
    Path dir;

    private void assertIaslRoundTrip(byte[] body) {
        byte[] table = SdtHeader.wrap("SSDT", 2, body);
        Dsl dsl = Acpica.disassemble(dir, "ssdt", table);
        assertEquals(List.of(), dsl.complaints(), dsl.text);
        byte[] recompiled = Acpica.compile(dir, "ssdt.dsl", "recompiled");
        assertArrayEquals(body, Arrays.copyOfRange(recompiled, 36, recompiled.length), "iasl re-encodes the same AML");
    }

    @Test
    void integersOfEverySize() {
        long[] values = {0, 1, 2, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFF_FFFFL, 0x1_0000_0000L, 0x7FFF_FFFF_FFFF_FFFFL};
        byte[][] elements = new byte[values.length][];
        for (int i = 0; i < values.length; i++) elements[i] = Aml.integer(values[i]);
        assertIaslRoundTrip(Aml.name("INTS", Aml.packageOf(elements)));
    }

    @Test
    void packagesNeedingOneTwoAndThreeBytePkgLength() {
        // 255 QWords: about 2.3 KiB, a two-byte PkgLength.
        byte[][] qwords = new byte[255][];
        for (int i = 0; i < qwords.length; i++) qwords[i] = Aml.integer(0x1_0000_0000L + i);
        byte[] two = Aml.packageOf(qwords);
        assertEquals(1, (two[1] & 0xC0) >>> 6, "lead byte says one extra PkgLength byte");
        // 200 packages of 4 DWords: about 4.6 KiB, past the 4095 limit of two bytes.
        byte[][] inner = new byte[200][];
        for (int i = 0; i < inner.length; i++) {
            inner[i] = Aml.packageOf(Aml.integer(0x1_0000L + i), Aml.integer(0x2_0000L + i), Aml.integer(0x3_0000L + i), Aml.integer(0x4_0000L + i));
        }
        byte[] three = Aml.packageOf(inner);
        assertEquals(2, (three[1] & 0xC0) >>> 6, "lead byte says two extra PkgLength bytes");
        byte[] small = Aml.packageOf(Aml.integer(1));
        byte[] body = new AcpiByteWriter()
                .bytes(Aml.name("SMAL", small))
                .bytes(Aml.name("TWOB", two))
                .bytes(Aml.name("THRB", three))
                .bytes(Aml.name("STR_", Aml.string("jkvm")))
                .toByteArray();
        assertIaslRoundTrip(body);
    }

    @Test
    void pkgLengthBoundaries() {
        // §20.2.4: the length counts the PkgLength bytes; one byte reaches 63.
        assertArrayEquals(new byte[] {63}, Aml.pkgLength(62));
        assertArrayEquals(new byte[] {0x41, 0x04}, Aml.pkgLength(63));            // 63 + 2 = 0x41
        assertArrayEquals(new byte[] {0x4F, (byte) 0xFF}, Aml.pkgLength(0xFFF - 2)); // largest two-byte length
        assertArrayEquals(new byte[] {(byte) 0x81, 0x00, 0x01}, Aml.pkgLength(0x1000 - 2)); // 4094 + 3 = 0x1001
        assertThrows(IllegalArgumentException.class, () -> Aml.pkgLength(1 << 28));
    }

    @Test
    void nameStrings() {
        // §20.2.2: RootChar, DualNamePrefix, MultiNamePrefix + count, '_' padding.
        assertArrayEquals("_S5_".getBytes(), Aml.nameString("_S5"));
        assertArrayEquals(new byte[] {0x5C, 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'}, Aml.nameString("\\_SB.PCI0"));
        assertArrayEquals(new byte[] {0x2F, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'}, Aml.nameString("A.B.C"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("TOOLONG"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("1ABC"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("ab"));
    }
}
