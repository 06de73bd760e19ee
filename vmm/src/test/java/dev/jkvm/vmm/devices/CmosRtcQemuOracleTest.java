package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our RTC/CMOS against QEMU 7.2's {@code pc} machine. QEMU's RTC runs on the VM clock
 * ({@code -rtc clock=vm}), which stands still under {@code -S}, so both read one fixed instant.
 * Only registers both define are compared (QEMU also fills floppy, disk and boot-order bytes).
 */
class CmosRtcQemuOracleTest {
    private static final String START = "2026-01-04T15:04:05";
    private static final int[] COMPARED = {
        0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x32,
        0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5B, 0x5C, 0x5D};

    private static int cmos(PortIo io, int register) {
        io.outb(0x70, register);
        return io.inb(0x71);
    }

    private static List<String> probe(PortIo io) {
        List<String> seen = new ArrayList<>();
        for (int register : COMPARED) seen.add(Integer.toHexString(register) + "=" + Integer.toHexString(cmos(io, register)));
        io.outb(0x70, 0x80 | 0x34);
        seen.add("nmi-masked 34=" + Integer.toHexString(io.inb(0x71)) + " index=" + Integer.toHexString(io.inb(0x70)));
        io.outb(0x70, 0x32);
        seen.add("wide " + Integer.toHexString(io.in(0x70, 2)) + " " + Integer.toHexString(io.in(0x71, 2)));
        for (int mode : new int[] {0x06, 0x00, 0x04}) {
            io.outb(0x70, 0x0B);
            io.outb(0x71, mode);
            StringBuilder time = new StringBuilder("mode " + mode + ":");
            for (int register : new int[] {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32}) {
                time.append(' ').append(Integer.toHexString(cmos(io, register)));
            }
            seen.add(time.toString());
        }
        io.outb(0x70, 0x0B);
        io.outb(0x71, 0x82);
        int[][] writes = {{0x00, 0x30}, {0x02, 0x59}, {0x04, 0x23}, {0x07, 0x31}, {0x08, 0x12}, {0x09, 0x99}, {0x32, 0x19}};
        for (int[] w : writes) {
            io.outb(0x70, w[0]);
            io.outb(0x71, w[1]);
        }
        io.outb(0x70, 0x0B);
        io.outb(0x71, 0x02);
        StringBuilder set = new StringBuilder("after set:");
        for (int register : new int[] {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32}) {
            set.append(' ').append(Integer.toHexString(cmos(io, register)));
        }
        seen.add(set.toString());
        return seen;
    }

    @ParameterizedTest(name = "{0} MiB")
    @ValueSource(longs = {256, 3072, 8192})
    void registersMatchQemu(long mib) throws InterruptedException {
        assumeTrue(QemuQtest.available(), "qemu-system-x86_64 is not installed");
        List<String> expected;
        try (QemuQtest qemu = new QemuQtest("-m", mib + "M", "-rtc", "base=" + START + ",clock=vm")) {
            expected = probe(qemu);
        }
        Clock clock = Clock.fixed(Instant.parse(START + "Z"), ZoneOffset.UTC);
        PortIoBus bus = new PortIoBus();
        bus.register(0x70, 2, new CmosRtc(mib << 20, clock));
        assertEquals(String.join("\n", expected), String.join("\n", probe(PortIo.of(bus))));
    }
}
