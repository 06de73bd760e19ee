package dev.jkvm.klib.kernel.acpi;

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
 * The FADT fields soft-off uses (ACPI 6.5 §5.2.9, Table 5.9) and Generic Address Structures
 * (§5.2.3.2), at the limits the captured fixtures do not reach: a table that ends exactly after
 * X_DSDT or the sleep control register, or one byte before; a zero X_DSDT; an extended PM1 block
 * that is unusable, so the 32-bit port counts; ports and memory addresses at and one past what
 * the kernel can reach; a register that does not start at bit 0.
 */
class FadtFieldsTest {
    private static final long FADT = 0x100;
    private static final long GAS = 0x800;
    private MemorySegment physical;

    @BeforeEach
    void setUp() {
        physical = HostArena.global().allocate(4096, 4096).fill((byte) 0);
        PhysicalWindow.map(physical.address(), 4096);
    }

    @AfterEach
    void tearDown() {
        PhysicalWindow.map(0, 0);
    }

    private void gas(long at, int space, int bitOffset, long address) {
        physical.set(ValueLayout.JAVA_BYTE, at, (byte) space);
        physical.set(ValueLayout.JAVA_BYTE, at + 1, (byte) 16);
        physical.set(ValueLayout.JAVA_BYTE, at + 2, (byte) bitOffset);
        physical.set(ValueLayout.JAVA_BYTE, at + 3, (byte) 2);
        physical.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 4, address);
    }

    private void fadt(int length) {
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, FADT, Signature.FADT);
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, FADT + 4, length);
    }

    private void u32(long offset, int value) {
        physical.set(ValueLayout.JAVA_INT_UNALIGNED, FADT + offset, value);
    }

    @Test
    void aGenericAddressIsUsableOnlyInReach() {
        gas(GAS, GenericAddress.SPACE_IO, 0, 0xFFFF);
        assertEquals(GenericAddress.SPACE_IO, GenericAddress.spaceId(GAS));
        assertEquals(0, GenericAddress.bitOffset(GAS));
        assertEquals(0xFFFF, GenericAddress.address(GAS));
        assertEquals(GenericAddress.SPACE_IO, GenericAddress.usableSpace(GAS), "the last port");
        gas(GAS, GenericAddress.SPACE_IO, 0, 0x10000);
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS));
        gas(GAS, GenericAddress.SPACE_MEMORY, 0, 0xFFFF_FFFFL);
        assertEquals(GenericAddress.SPACE_MEMORY, GenericAddress.usableSpace(GAS), "the last identity-mapped byte");
        gas(GAS, GenericAddress.SPACE_MEMORY, 0, 0x1_0000_0000L);
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS));
        gas(GAS, GenericAddress.SPACE_IO, 1, 0x404);
        assertEquals(1, GenericAddress.bitOffset(GAS));
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS), "not at bit 0");
        gas(GAS, 2, 0, 0x404);
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS), "PCI configuration space");
        gas(GAS, GenericAddress.SPACE_IO, 0, 0);
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS), "an unused block");
        gas(GAS, GenericAddress.SPACE_MEMORY, 0, -4096);
        assertEquals(GenericAddress.SPACE_NONE, GenericAddress.usableSpace(GAS));
    }

    @Test
    void xDsdtCountsWhenTheTableHoldsItAndItIsNotZero() {
        fadt(Fadt.OFFSET_X_DSDT + 8);
        u32(Fadt.OFFSET_DSDT, 0x1000);
        physical.set(ValueLayout.JAVA_LONG_UNALIGNED, FADT + Fadt.OFFSET_X_DSDT, 0x2000);
        assertTrue(Fadt.parse(FADT));
        assertEquals(0x2000, Fadt.dsdt());
        fadt(Fadt.OFFSET_X_DSDT + 7);
        assertTrue(Fadt.parse(FADT));
        assertEquals(0x1000, Fadt.dsdt(), "X_DSDT not wholly inside the table");
        fadt(Fadt.OFFSET_X_DSDT + 8);
        physical.set(ValueLayout.JAVA_LONG_UNALIGNED, FADT + Fadt.OFFSET_X_DSDT, 0);
        assertTrue(Fadt.parse(FADT));
        assertEquals(0x1000, Fadt.dsdt(), "X_DSDT zero");
    }

    @Test
    void theLegacyPortCountsWhenTheExtendedBlockIsUnusable() {
        fadt(Fadt.OFFSET_SLEEP_CONTROL_REG + GenericAddress.SIZE);
        u32(Fadt.OFFSET_FLAGS, 0x1234);
        u32(Fadt.OFFSET_PM1A_CNT_BLK, 0x604);
        u32(Fadt.OFFSET_PM1B_CNT_BLK, 0x10000);
        gas(FADT + Fadt.OFFSET_X_PM1A_CNT_BLK, GenericAddress.SPACE_IO, 4, 0xB004);
        gas(FADT + Fadt.OFFSET_X_PM1B_CNT_BLK, GenericAddress.SPACE_MEMORY, 0, 0xFED0_0000L);
        gas(FADT + Fadt.OFFSET_SLEEP_CONTROL_REG, GenericAddress.SPACE_IO, 0, 0xFFFF);
        assertTrue(Fadt.parse(FADT));
        assertEquals(0x1234, Fadt.flags());
        assertEquals(GenericAddress.SPACE_IO, Fadt.pm1aControlSpace(), "the extended block is at bit 4");
        assertEquals(0x604, Fadt.pm1aControlAddress());
        assertEquals(GenericAddress.SPACE_MEMORY, Fadt.pm1bControlSpace());
        assertEquals(0xFED0_0000L, Fadt.pm1bControlAddress());
        assertEquals(GenericAddress.SPACE_IO, Fadt.sleepControlSpace());
        assertEquals(0xFFFF, Fadt.sleepControlAddress());

        u32(Fadt.OFFSET_PM1A_CNT_BLK, 0xFFFF);
        gas(FADT + Fadt.OFFSET_X_PM1B_CNT_BLK, GenericAddress.SPACE_MEMORY, 0, 0);
        fadt(Fadt.OFFSET_SLEEP_CONTROL_REG + GenericAddress.SIZE - 1);
        assertTrue(Fadt.parse(FADT));
        assertEquals(0xFFFF, Fadt.pm1aControlAddress(), "the last port");
        assertEquals(GenericAddress.SPACE_NONE, Fadt.pm1bControlSpace(), "port 0x10000 is no port");
        assertEquals(0, Fadt.pm1bControlAddress());
        assertEquals(GenericAddress.SPACE_NONE, Fadt.sleepControlSpace(), "the register is not wholly inside");

        fadt((int) Fadt.MINIMUM_LENGTH - 1);
        assertFalse(Fadt.parse(FADT));
        assertEquals(GenericAddress.SPACE_NONE, Fadt.pm1aControlSpace(), "a rejected table leaves no block");
        fadt((int) Fadt.MINIMUM_LENGTH);
        assertTrue(Fadt.parse(FADT));
    }
}
