package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RTC and CMOS through the port bus. Time encodings follow the MC146818 datasheet (register B:
 * DM bit 2 = binary, 24/12 bit 1, PM = hour bit 7; day of week 1 = Sunday); memory bytes follow
 * the PC BIOS convention QEMU and SeaBIOS use, worked out by hand below.
 */
class CmosRtcTest {
    /** A Wednesday afternoon. */
    private static final Instant WEDNESDAY = Instant.parse("2026-11-25T13:45:59Z");

    private PortIoBus busWith(CmosRtc rtc) {
        PortIoBus bus = new PortIoBus();
        bus.register(0x70, 2, rtc);
        return bus;
    }

    private static int cmos(PortIoBus bus, int register) {
        bus.write(0x70, 1, register);
        return bus.read(0x71, 1);
    }

    private static void setCmos(PortIoBus bus, int register, int value) {
        bus.write(0x70, 1, register);
        bus.write(0x71, 1, value);
    }

    private final PortIoBus bus = busWith(new CmosRtc(256L << 20, Clock.fixed(WEDNESDAY, ZoneOffset.UTC)));

    @Test
    void timeIsBcdAnd24HourByDefault() {
        assertEquals(0x59, cmos(bus, 0x00));
        assertEquals(0x45, cmos(bus, 0x02));
        assertEquals(0x13, cmos(bus, 0x04));
        assertEquals(0x04, cmos(bus, 0x06), "Wednesday: Sunday = 1");
        assertEquals(0x25, cmos(bus, 0x07));
        assertEquals(0x11, cmos(bus, 0x08));
        assertEquals(0x26, cmos(bus, 0x09));
        assertEquals(0x20, cmos(bus, 0x32), "century");
        assertEquals(0x02, cmos(bus, 0x0B), "register B: 24-hour, BCD");
    }

    @Test
    void binaryModeFollowsRegisterB() {
        setCmos(bus, 0x0B, 0x06);
        assertEquals(59, cmos(bus, 0x00));
        assertEquals(45, cmos(bus, 0x02));
        assertEquals(13, cmos(bus, 0x04));
        assertEquals(25, cmos(bus, 0x07));
        assertEquals(11, cmos(bus, 0x08));
        assertEquals(26, cmos(bus, 0x09));
        assertEquals(20, cmos(bus, 0x32));
        assertEquals(0x06, cmos(bus, 0x0B));
    }

    @ParameterizedTest(name = "{0} in register B mode {1} reads {2}")
    @CsvSource({
            "13:45, 0x00, 0x81", "13:45, 0x04, 0x81", "00:10, 0x00, 0x12", "00:10, 0x04, 0x0C",
            "12:00, 0x00, 0x92", "11:59, 0x00, 0x11", "23:00, 0x04, 0x8B", "23:00, 0x06, 0x17"})
    void twelveHourModeSetsPmInBit7(String time, String registerB, String hourRegister) {
        Instant at = Instant.parse("2026-11-25T" + time + ":00Z");
        PortIoBus b = busWith(new CmosRtc(256L << 20, Clock.fixed(at, ZoneOffset.UTC)));
        setCmos(b, 0x0B, Integer.decode(registerB));
        assertEquals((int) Integer.decode(hourRegister), cmos(b, 0x04));
    }

    @Test
    void controlRegisters() {
        assertEquals(0x26, cmos(bus, 0x0A), "register A: 32.768 kHz base, 1024 Hz rate, UIP clear at a whole second");
        setCmos(bus, 0x0A, 0xA6);
        assertEquals(0x26, cmos(bus, 0x0A), "UIP is read-only");
        assertEquals(0x00, cmos(bus, 0x0C));
        assertEquals(0x80, cmos(bus, 0x0D), "register D: VRT, valid RAM and time");
        setCmos(bus, 0x0D, 0x00);
        assertEquals(0x80, cmos(bus, 0x0D));
    }

    @Test
    void updateInProgressIsSetOnlyInTheLast244MicrosecondsOfASecond() {
        // Datasheet: with the 32.768 kHz time base UIP rises t_BUC = 244 µs before the update.
        SettableClock clock = new SettableClock(Instant.parse("2026-11-25T13:45:59.999700Z"));
        PortIoBus b = busWith(new CmosRtc(256L << 20, clock));
        assertEquals(0x26, cmos(b, 0x0A), "300 µs before the update");
        clock.advance(Duration.ofNanos(60_000));
        assertEquals(0xA6, cmos(b, 0x0A), "240 µs before the update");
        setCmos(b, 0x0B, 0x82);
        assertEquals(0x26, cmos(b, 0x0A), "SET halts updates");
        setCmos(b, 0x0B, 0x02);
        setCmos(b, 0x0A, 0x66);
        assertEquals(0x66, cmos(b, 0x0A), "a stopped divider (DV = 110) makes no updates");
        setCmos(b, 0x0A, 0x26);
        clock.advance(Duration.ofNanos(240_000));
        assertEquals(0x26, cmos(b, 0x0A), "the update is done");
        assertEquals(0x00, cmos(b, 0x00), "and the seconds rolled over");
    }

    @Test
    void nmiMaskBitIsNotPartOfTheIndex() {
        bus.write(0x70, 1, 0x80 | 0x15);
        assertEquals(0x80, bus.read(0x71, 1), "register 0x15, 640 KiB low byte");
        bus.write(0x70, 1, 0x80 | 0x40);
        bus.write(0x71, 1, 0x5A);
        assertEquals(0x5A, cmos(bus, 0x40));
    }

    @Test
    void otherRegistersAreStorage() {
        for (int register : new int[] {0x01, 0x03, 0x05, 0x0E, 0x0F, 0x40, 0x7F}) {
            setCmos(bus, register, register ^ 0xA5);
            assertEquals(register ^ 0xA5, cmos(bus, register), "register 0x" + Integer.toHexString(register));
        }
    }

    @Test
    void indexPortReadsAllOnesAndWideReadsSplitIntoBytes() {
        bus.write(0x70, 1, 0x32);
        assertEquals(0xFF, bus.read(0x70, 1));
        assertEquals(0x20FF, bus.read(0x70, 2), "index port (all ones), then the data port");
        assertEquals(0xFF20, bus.read(0x71, 2), "data port, then the byte past the device");
    }

    @ParameterizedTest(name = "{0} MiB")
    @CsvSource({
            // RAM MiB, 0x15 0x16 (640 KiB), 0x17 0x18 = 0x30 0x31 (KiB above 1 MiB, capped 0xFFFF),
            // 0x34 0x35 (64 KiB units above 16 MiB below 4 GiB), 0x5B 0x5C 0x5D (64 KiB units above 4 GiB).
            // 32 MiB: 31744 = 0x7C00 KiB; 16 MiB / 64 KiB = 256 = 0x0100.
            "32,   0x80, 0x02, 0x00, 0x7C, 0x00, 0x01, 0x00, 0x00, 0x00",
            // 256 MiB: 255 MiB in KiB exceeds 0xFFFF; 240 MiB / 64 KiB = 3840 = 0x0F00.
            "256,  0x80, 0x02, 0xFF, 0xFF, 0x00, 0x0F, 0x00, 0x00, 0x00",
            // 3 GiB: all below the 3 GiB hole; 3056 MiB / 64 KiB = 48896 = 0xBF00.
            "3072, 0x80, 0x02, 0xFF, 0xFF, 0x00, 0xBF, 0x00, 0x00, 0x00",
            // 8 GiB: 3 GiB below 4 GiB, 5 GiB above it; 5 GiB / 64 KiB = 81920 = 0x014000.
            "8192, 0x80, 0x02, 0xFF, 0xFF, 0x00, 0xBF, 0x00, 0x40, 0x01"})
    void memorySizeBytes(long mib, String b15, String b16, String b17, String b18, String b34, String b35,
                         String b5b, String b5c, String b5d) {
        PortIoBus b = busWith(new CmosRtc(mib << 20, Clock.fixed(WEDNESDAY, ZoneOffset.UTC)));
        assertEquals((int) Integer.decode(b15), cmos(b, 0x15));
        assertEquals((int) Integer.decode(b16), cmos(b, 0x16));
        assertEquals((int) Integer.decode(b17), cmos(b, 0x17));
        assertEquals((int) Integer.decode(b18), cmos(b, 0x18));
        assertEquals((int) Integer.decode(b17), cmos(b, 0x30));
        assertEquals((int) Integer.decode(b18), cmos(b, 0x31));
        assertEquals((int) Integer.decode(b34), cmos(b, 0x34));
        assertEquals((int) Integer.decode(b35), cmos(b, 0x35));
        assertEquals((int) Integer.decode(b5b), cmos(b, 0x5B));
        assertEquals((int) Integer.decode(b5c), cmos(b, 0x5C));
        assertEquals((int) Integer.decode(b5d), cmos(b, 0x5D));
    }

    @Test
    void guestSetsTheTimeWithTheSetBitAndTheClockRunsOn() {
        SettableClock clock = new SettableClock(WEDNESDAY);
        PortIoBus b = busWith(new CmosRtc(256L << 20, clock));
        setCmos(b, 0x0B, 0x82); // SET: updates stop while the guest writes
        setCmos(b, 0x00, 0x00);
        setCmos(b, 0x02, 0x30);
        setCmos(b, 0x04, 0x08);
        setCmos(b, 0x07, 0x31); // the 31st before the month: November has 30 days, accepted while SET
        setCmos(b, 0x08, 0x12);
        setCmos(b, 0x09, 0x99);
        setCmos(b, 0x32, 0x19);
        clock.advance(Duration.ofSeconds(5));
        assertEquals(0x00, cmos(b, 0x00), "stands still while SET");
        setCmos(b, 0x0B, 0x02);
        clock.advance(Duration.ofSeconds(61));
        assertEquals(0x01, cmos(b, 0x00));
        assertEquals(0x31, cmos(b, 0x02));
        assertEquals(0x08, cmos(b, 0x04));
        assertEquals(0x31, cmos(b, 0x07));
        assertEquals(0x12, cmos(b, 0x08));
        assertEquals(0x99, cmos(b, 0x09));
        assertEquals(0x19, cmos(b, 0x32));
        assertEquals(0x06, cmos(b, 0x06), "1999-12-31 was a Friday");
    }

    @Test
    void writesThatAreNoDateAreIgnored() {
        setCmos(bus, 0x08, 0x13); // month 13
        assertEquals(0x11, cmos(bus, 0x08));
        setCmos(bus, 0x02, 0x07); // a valid minute still sets
        assertEquals(0x07, cmos(bus, 0x02));
    }
}
