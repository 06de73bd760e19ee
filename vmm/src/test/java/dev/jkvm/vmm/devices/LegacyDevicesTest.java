package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One call puts every device at its PC/QEMU port; checked through each device's own signature. */
class LegacyDevicesTest {
    private final PortIoBus bus = new PortIoBus();
    private final RecordingInterruptLines irq = new RecordingInterruptLines();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final List<Integer> exits = new ArrayList<>();
    private final LegacyDevices devices = LegacyDevices.install(bus, irq, console, exits::add, 2, 512L << 20,
            Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC));

    @Test
    void serialIsCom1OnIrq4() {
        bus.write(0x3F9, 1, 0x02); // IER: THR empty
        assertEquals(List.of("4:high"), irq.drain());
        for (byte b : "ok\n".getBytes(StandardCharsets.US_ASCII)) bus.write(0x3F8, 1, b);
        assertEquals("ok\n", console.toString(StandardCharsets.US_ASCII));
        assertEquals(3, devices.serial().bytesTransmitted());
    }

    @Test
    void debugExitIsAtF4() {
        bus.write(0xF4, 1, 0x10);
        assertEquals(List.of(0x21), exits);
    }

    @Test
    void fwCfgIsAt510() {
        bus.write(0x510, 2, 0x0005);
        assertEquals(2, bus.read(0x511, 1));
        devices.fwCfg().addFile("opt/x", new byte[] {9});
        bus.write(0x510, 2, 0x0020);
        assertEquals(9, bus.read(0x511, 1));
    }

    @Test
    void rtcIsAt70() {
        bus.write(0x70, 1, 0x04);
        assertEquals(0x10, bus.read(0x71, 1), "10 o'clock in BCD");
        bus.write(0x70, 1, 0x35);
        assertEquals(0x1F, bus.read(0x71, 1), "(512 - 16) MiB / 64 KiB = 0x1F00");
    }

    @Test
    void nothingElseIsDecoded() {
        assertEquals(0xFF, bus.read(0x514, 1), "no fw_cfg DMA port");
        assertEquals(0xFF, bus.read(0x2F8, 1), "no COM2");
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3F8, 1, devices.serial()));
    }
}
