package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * \_S5 packages in the encodings the captured tables do not use: multi-byte PkgLength (ACPI 6.5
 * §20.2.4: the lead byte's bits 6-7 count the following bytes, its bits 0-3 are the length's low
 * nibble, each following byte the next eight bits) and the wider integer prefixes.
 */
class SleepPackageEncodingTest {
    private static final long TABLE = 0x1000;

    /** A definition block whose AML is Name(_S5_, Package(){...}) with the given PkgLength bytes and body. */
    private static int find(Arena arena, byte[] pkgLength, byte[] body) {
        ByteArrayOutputStream aml = new ByteArrayOutputStream();
        aml.write(SleepPackage.NAME_OP);
        aml.writeBytes(new byte[] {'_', 'S', '5', '_'});
        aml.write(SleepPackage.PACKAGE_OP);
        aml.writeBytes(pkgLength);
        aml.writeBytes(body);
        byte[] bytes = aml.toByteArray();
        MemorySegment memory = arena.allocate(0x4000, 4096);
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, TABLE + 4, SdtHeader.SIZE + bytes.length);
        MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, TABLE + SdtHeader.SIZE, bytes.length);
        PhysicalWindow.map(memory.address(), memory.byteSize());
        return SleepPackage.find(TABLE, SleepPackage.S5);
    }

    /** Package body: element count then the elements; padded to length - pkgLength bytes. */
    private static byte[] body(int length, int pkgLengthBytes, int... elements) {
        byte[] b = new byte[length - pkgLengthBytes];
        b[0] = (byte) elements.length;
        int at = 1;
        for (int e : elements) {
            b[at++] = (byte) SleepPackage.BYTE_PREFIX;
            b[at++] = (byte) e;
        }
        return b;
    }

    @Test
    void aTwoBytePkgLengthIsDecodedNibbleThenByte() {
        try (Arena arena = HostArena.ofConfined()) {
            int length = 0x125; // lead 0x45 (one following byte, low nibble 5), then 0x12
            assertEquals(SleepPackage.FOUND, find(arena, new byte[] {0x45, 0x12}, body(length, 2, 5, 6)));
            assertEquals(5, SleepPackage.typeA());
            assertEquals(6, SleepPackage.typeB());
        }
    }

    @Test
    void aThreeBytePkgLengthIsDecoded() {
        try (Arena arena = HostArena.ofConfined()) {
            int length = 0x1003; // lead 0x83 (two following bytes), then 0x00, 0x01
            assertEquals(SleepPackage.FOUND, find(arena, new byte[] {(byte) 0x83, 0x00, 0x01}, body(length, 3, 3, 4)));
            assertEquals(3, SleepPackage.typeA());
            assertEquals(4, SleepPackage.typeB());
        }
    }

    @Test
    void reservedLeadBitsMakeItMalformed() {
        try (Arena arena = HostArena.ofConfined()) {
            assertEquals(SleepPackage.MALFORMED, find(arena, new byte[] {0x55, 0x12}, body(0x125, 2, 5, 6)));
        }
    }

    @Test
    void aPackageLongerThanItsTableIsMalformed() {
        try (Arena arena = HostArena.ofConfined()) {
            assertEquals(SleepPackage.MALFORMED, find(arena, new byte[] {0x45, 0x12}, body(0x124, 2, 5, 6)));
        }
    }

    @Test
    void aPackageEndingExactlyAtTheTableEndIsWhole() {
        try (Arena arena = HostArena.ofConfined()) {
            assertEquals(SleepPackage.FOUND, find(arena, new byte[] {0x06}, body(6, 1, 1, 2)));
            assertEquals(1, SleepPackage.typeA());
            assertEquals(2, SleepPackage.typeB());
        }
    }

    @Test
    void oneElementHoldsBothTypesInItsTwoBytes() {
        try (Arena arena = HostArena.ofConfined()) {
            byte[] body = {1, (byte) SleepPackage.WORD_PREFIX, 0x05, 0x07};
            assertEquals(SleepPackage.FOUND, find(arena, new byte[] {0x05}, body));
            assertEquals(5, SleepPackage.typeA());
            assertEquals(7, SleepPackage.typeB());
        }
    }
}
