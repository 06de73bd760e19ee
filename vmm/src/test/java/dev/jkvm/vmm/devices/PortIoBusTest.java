package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Port dispatch: a port nothing decodes floats high, so an {@code in} reads all ones. */
class PortIoBusTest {
    private final PortIoBus bus = new PortIoBus();
    private final List<String> accesses = new ArrayList<>();

    private PioDevice recorder(String name) {
        return new PioDevice() {
            @Override
            public int read(int port, int size) {
                accesses.add(name + " read 0x" + Integer.toHexString(port) + "/" + size);
                return 0x42;
            }

            @Override
            public void write(int port, int size, int value) {
                accesses.add(name + " write 0x" + Integer.toHexString(port) + "/" + size + "=0x" + Integer.toHexString(value));
            }
        };
    }

    @ParameterizedTest(name = "in{0} of an unknown port")
    @CsvSource({"1, 0xFF", "2, 0xFFFF", "4, 0xFFFFFFFF"})
    void unknownPortsReadAllOnes(int size, String expected) {
        assertEquals(Integer.parseUnsignedInt(expected.substring(2), 16), bus.read(0x80, size));
        assertEquals(1, bus.unknownReads());
    }

    @Test
    void unknownWritesAreCountedAndDropped() {
        bus.register(0x100, 4, recorder("dev"));
        bus.write(0x80, 1, 1);
        bus.write(0x104, 2, 1);
        assertEquals(2, bus.unknownWrites());
        assertEquals(0, bus.unknownReads());
        assertEquals(List.of(), accesses);
    }

    @Test
    void accessesReachTheDeviceCoveringThePortWithAbsolutePortNumbers() {
        bus.register(0x100, 4, recorder("a"));
        bus.register(0x104, 1, recorder("b"));
        assertEquals(0x42, bus.read(0x103, 1));
        bus.write(0x104, 4, 0x1234);
        bus.read(0xFF, 1);
        assertEquals(List.of("a read 0x103/1", "b write 0x104/4=0x1234"), accesses);
        assertEquals(1, bus.unknownReads());
    }

    @Test
    void overlappingRangesAreRejected() {
        bus.register(0x3F8, 8, recorder("com1"));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3FF, 1, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3F0, 9, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3F8, 8, recorder("x")));
        bus.register(0x3F0, 8, recorder("below"));
        bus.register(0x400, 1, recorder("above"));
    }

    @Test
    void rangesOutsideThePortSpaceAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xFFFF, 2, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(-1, 1, recorder("x")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x10, 0, recorder("x")));
        bus.register(0xFFFF, 1, recorder("last"));
    }
}
