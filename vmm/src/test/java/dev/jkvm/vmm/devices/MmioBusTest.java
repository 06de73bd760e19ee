package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MMIO dispatch: unclaimed physical addresses read all ones; addresses compare unsigned. */
class MmioBusTest {
    private final MmioBus bus = new MmioBus();
    private final List<String> accesses = new ArrayList<>();

    private MmioDevice recorder(String name) {
        return new MmioDevice() {
            @Override
            public long read(long address, int size) {
                accesses.add(name + " read 0x" + Long.toHexString(address) + "/" + size);
                return 7;
            }

            @Override
            public void write(long address, int size, long value) {
                accesses.add(name + " write 0x" + Long.toHexString(address) + "/" + size + "=" + value);
            }
        };
    }

    @ParameterizedTest(name = "{0}-byte read of an unclaimed address")
    @CsvSource({"1, 0xFF", "2, 0xFFFF", "4, 0xFFFFFFFF", "8, 0xFFFFFFFFFFFFFFFF"})
    void unknownAddressesReadAllOnes(int size, String expected) {
        assertEquals(Long.parseUnsignedLong(expected.substring(2), 16), bus.read(0xFED0_0000L, size));
        assertEquals(1, bus.unknownReads());
    }

    @Test
    void unknownWritesAreCounted() {
        bus.register(0xFEC0_0000L, 0x1000, recorder("ioapic"));
        bus.write(0xFEC0_1000L, 4, 1);
        bus.write(0xFEBF_FFFFL, 1, 1);
        assertEquals(2, bus.unknownWrites());
        assertEquals(List.of(), accesses);
    }

    @Test
    void accessesReachTheCoveringDevice() {
        bus.register(0xFEC0_0000L, 0x1000, recorder("ioapic"));
        bus.register(0xFEE0_0000L, 0x1000, recorder("lapic"));
        assertEquals(7, bus.read(0xFEC0_0FFCL, 4));
        bus.write(0xFEE0_00B0L, 4, 0);
        assertEquals(List.of("ioapic read 0xfec00ffc/4", "lapic write 0xfee000b0/4=0"), accesses);
    }

    @Test
    void addressesAboveTheSignedRangeWork() {
        long high = 0xFFFF_FFFF_0000_0000L; // negative as a signed long
        bus.register(high, 0x100, recorder("high"));
        bus.register(0x1000, 0x100, recorder("low"));
        bus.read(high + 0x10, 1);
        bus.read(0x1010, 1);
        assertEquals(List.of("high read 0xffffffff00000010/1", "low read 0x1010/1"), accesses);
    }

    @Test
    void overlappingRangesAreRejected() {
        bus.register(0x1000, 0x1000, recorder("a"));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x1FFF, 1, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x0800, 0x1000, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x0, 0x10000, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x2000, 0, recorder("x")));
        bus.register(0x2000, 0x1000, recorder("adjacent"));
        bus.register(0x0, 0x1000, recorder("below"));
    }
}
