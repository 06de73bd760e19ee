package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * isa-debug-exit: QEMU hw/misc/debugexit.c exits with {@code (value << 1) | 1}; the expected
 * statuses below are worked out from that formula by hand, and the process exit status (its low
 * 8 bits, POSIX {@code exit}) is checked against a real QEMU.
 */
class DebugExitTest {
    private final List<Integer> statuses = new ArrayList<>();
    private final PortIoBus bus = new PortIoBus();

    DebugExitTest() {
        bus.register(0xF4, 1, new DebugExit(statuses::add));
    }

    @ParameterizedTest(name = "out{1} 0xF4 <- {0} gives {2}")
    @CsvSource({
            "0x00, 1, 0x001", "0x01, 1, 0x003", "0x7F, 1, 0x0FF",
            "0x00, 2, 0x001", "0x01, 2, 0x003", "0x7F, 2, 0x0FF",
            "0x00, 4, 0x001", "0x01, 4, 0x003", "0x7F, 4, 0x0FF",
            "0x1234, 1, 0x069", "0x1234, 2, 0x2469", "0x10000, 2, 0x001", "0x10000, 4, 0x20001"})
    void writeReportsShiftedStatus(String value, int size, String status) {
        bus.write(0xF4, size, Integer.decode(value));
        assertEquals(List.of(Integer.decode(status)), statuses);
    }

    @ParameterizedTest(name = "in{0} 0xF4")
    @CsvSource({"1, 0xFF", "2, 0xFFFF", "4, 0xFFFFFFFF"})
    void readsAreAllOnes(int size, String expected) {
        assertEquals(Integer.parseUnsignedInt(expected.substring(2), 16), bus.read(0xF4, size));
        assertEquals(List.of(), statuses, "a read does not exit");
    }

    @ParameterizedTest(name = "QEMU exit status for out{1} 0xF4 <- {0}")
    @CsvSource({"0x00, 1", "0x01, 1", "0x7F, 1", "0x01, 2", "0x7F, 4"})
    void exitStatusMatchesQemu(String value, int size) throws InterruptedException {
        assumeTrue(QemuQtest.available(), "qemu-system-x86_64 is not installed");
        int v = Integer.decode(value);
        int qemuStatus;
        try (QemuQtest qemu = new QemuQtest("-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")) {
            qemuStatus = qemu.outAndAwaitExit(0xF4, size, v);
        }
        bus.write(0xF4, size, v);
        assertEquals(qemuStatus, statuses.getFirst() & 0xFF, "the host sees the low 8 bits of the status");
    }
}
