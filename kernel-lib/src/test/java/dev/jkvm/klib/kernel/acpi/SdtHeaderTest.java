package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SdtHeader.isValid on each defect of ACPI 6.5 §5.2.6's header on its own, in a 4 KiB physical
 * window: outside the window, another signature, a length below the header's 36 bytes or above
 * the believable maximum, a length running out of the window, a bad checksum; each one line.
 */
class SdtHeaderTest {
    private static final long SIZE = 4096;
    private MemorySegment physical;

    @BeforeEach
    void setUp() {
        physical = HostArena.global().allocate(SIZE, 4096).fill((byte) 0);
        PhysicalWindow.map(physical.address(), SIZE);
        Console.hostClear();
    }

    @AfterEach
    void tearDown() {
        PhysicalWindow.map(0, 0);
    }

    /** A table with a right checksum at the physical address. */
    private void table(long at, int signature, int length) {
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, at, signature);
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, at + 4, length);
        for (int i = 8; i < Math.min(length, 64); i++) {
            physical.set(ValueLayout.JAVA_BYTE, at + i, (byte) (i * 7));
        }
        physical.set(ValueLayout.JAVA_BYTE, at + 9, (byte) 0);
        int sum = 0;
        for (int i = 0; i < Math.min(length, SIZE - at); i++) {
            sum += physical.get(ValueLayout.JAVA_BYTE, at + i);
        }
        physical.set(ValueLayout.JAVA_BYTE, at + 9, (byte) -sum);
    }

    @Test
    void aWellFormedTableIsValidAndItsFieldsRead() {
        table(0x100, Signature.DSDT, 36);
        assertTrue(SdtHeader.isValid(0x100, Signature.DSDT));
        assertEquals(Signature.DSDT, SdtHeader.signature(0x100));
        assertEquals(36, SdtHeader.length(0x100));
        table(SIZE - 100, Signature.DSDT, 100);
        assertTrue(SdtHeader.isValid(SIZE - 100, Signature.DSDT), "ending exactly at the window's end");
        assertEquals("", Console.hostOutput());
    }

    @Test
    void eachDefectIsOneLineAndFalse() {
        assertFalse(SdtHeader.isValid(SIZE - 35, Signature.DSDT));
        assertEquals("acpi: DSDT table at 0x0000000000000fdd lies outside physical memory; ignoring it\n",
                Console.hostOutput());

        Console.hostClear();
        table(0x100, Signature.FADT, 36);
        assertFalse(SdtHeader.isValid(0x100, Signature.DSDT));
        assertEquals("acpi: DSDT table at 0x0000000000000100 has the signature FACP; ignoring it\n", Console.hostOutput());

        Console.hostClear();
        table(0x100, Signature.DSDT, 35);
        assertFalse(SdtHeader.isValid(0x100, Signature.DSDT));
        assertEquals("acpi: DSDT table at 0x0000000000000100 has an impossible length 0x0000000000000023; ignoring it\n",
                Console.hostOutput());

        Console.hostClear();
        table(0x100, Signature.DSDT, (int) SdtHeader.MAX_LENGTH + 1);
        assertFalse(SdtHeader.isValid(0x100, Signature.DSDT));
        assertTrue(Console.hostOutput().contains("impossible length"), Console.hostOutput());

        Console.hostClear();
        table(0x100, Signature.DSDT, (int) SdtHeader.MAX_LENGTH);
        assertFalse(SdtHeader.isValid(0x100, Signature.DSDT));
        assertTrue(Console.hostOutput().contains("of length 0x0000000001000000 runs outside"),
                "the maximum itself is a believable length: " + Console.hostOutput());

        Console.hostClear();
        table(SIZE - 100, Signature.DSDT, 101);
        assertFalse(SdtHeader.isValid(SIZE - 100, Signature.DSDT));
        assertEquals("acpi: DSDT table at 0x0000000000000f9c of length 0x0000000000000065 runs outside physical memory;"
                + " ignoring it\n", Console.hostOutput());

        Console.hostClear();
        table(0x100, Signature.DSDT, 40);
        physical.set(ValueLayout.JAVA_BYTE, 0x100 + 39, (byte) (physical.get(ValueLayout.JAVA_BYTE, 0x100 + 39) + 1));
        assertFalse(SdtHeader.isValid(0x100, Signature.DSDT));
        assertEquals("acpi: DSDT table at 0x0000000000000100 has a bad checksum; ignoring it\n", Console.hostOutput());
    }
}
