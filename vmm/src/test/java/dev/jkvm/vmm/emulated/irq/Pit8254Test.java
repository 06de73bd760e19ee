package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The 8254 on a fake GuestClock: counts, latches, read-back, modes, port 0x61 and channel 0's pulses. */
class Pit8254Test {
    private final FakeClock clock = new FakeClock();
    private final Pit8254 pit = new Pit8254(clock);
    private final List<String> line = new ArrayList<>();

    Pit8254Test() {
        pit.onChannel0Pulse(level -> line.add(clock.nanos() + (level ? ":high" : ":low")));
    }

    /** GuestClock nanos at which {@code ticks} PIT clocks have passed (rounded up, as the model). */
    private static long at(long ticks) {
        return (ticks * 1_000_000_000L + Pit8254.HZ - 1) / Pit8254.HZ;
    }

    private int latched(int channel) {
        pit.write(0x43, 1, channel << 6);
        return pit.read(0x40 + channel, 1) | (pit.read(0x40 + channel, 1) << 8);
    }

    @Test
    void channel2Mode0AsTheKernelCalibratesIt() {
        int count = 1193182 / 1000 * 20;
        int control = pit.read(0x61, 1);
        assertEquals(0, control & 0x03, "gate 2 and speaker off at reset");
        assertEquals(0x20, control & 0x20, "OUT2 high: mode 3 after reset, first half period");
        pit.write(0x61, 1, (control & ~2) | 1);
        pit.write(0x43, 1, 0xB0);
        pit.write(0x42, 1, count & 0xFF);
        clock.set(5_000);                    // time passes between the two bytes: not counting yet
        pit.write(0x42, 1, count >>> 8);
        assertEquals(count, latched(2));
        clock.set(5_000 + at(11_931));
        assertEquals(count - 11_931, latched(2));
        assertEquals(0, pit.read(0x61, 1) & 0x20, "OUT2 low while counting");
        clock.set(5_000 + at(count) - 1);
        assertEquals(1, latched(2));
        clock.set(5_000 + at(count));
        assertEquals(0, latched(2));
        assertEquals(0x20, pit.read(0x61, 1) & 0x20, "OUT2 high at terminal count");
        clock.set(5_000 + at(count + 2));
        assertEquals(0xFFFE, latched(2), "mode 0 keeps counting down through 0xFFFF");
        assertEquals(0x01, pit.read(0x61, 1) & 0x03);
    }

    @Test
    void latchHoldsTheCountUntilRead() {
        pit.write(0x43, 1, 0x34);  // channel 0, word, mode 2
        pit.write(0x40, 1, 0x00);
        pit.write(0x40, 1, 0x10);  // 0x1000
        clock.set(at(0x100));
        pit.write(0x43, 1, 0x00);  // latch
        clock.set(at(0x200));
        pit.write(0x43, 1, 0x00);  // a second latch before the read is ignored
        assertEquals(0x00, pit.read(0x40, 1));
        assertEquals(0x0F, pit.read(0x40, 1));
        assertEquals(0x1000 - 0x200, pit.read(0x40, 1) | (pit.read(0x40, 1) << 8), "unlatched reads follow the clock");
    }

    @Test
    void readBackStatusThenCount() {
        pit.write(0x43, 1, 0x96);  // channel 2, LSB only, mode 3
        pit.write(0x42, 1, 100);
        clock.set(at(10));
        pit.write(0x43, 1, 0xC8);  // read-back: count and status of channel 2
        assertEquals(0x80 | 0x10 | (3 << 1), pit.read(0x42, 1), "status: OUT high, LSB access, mode 3");
        assertEquals(100 - 20, pit.read(0x42, 1), "mode 3 counts by two");
        assertEquals(100 - 20, pit.read(0x42, 1), "LSB-only reads track the live counter after the latch");
    }

    @Test
    void msbOnlyAccess() {
        pit.write(0x43, 1, 0xA0);  // channel 2, MSB only, mode 0
        pit.write(0x42, 1, 0x12);
        assertEquals(0x12, pit.read(0x42, 1));
        clock.set(at(0x101));
        assertEquals(0x10, pit.read(0x42, 1));
    }

    @Test
    void mode3OutputIsASquareWave() {
        pit.write(0x61, 1, 1);
        pit.write(0x43, 1, 0xB6);
        pit.write(0x42, 1, 10);
        pit.write(0x42, 1, 0);
        clock.set(at(4));
        assertEquals(0x20, pit.read(0x61, 1) & 0x20);
        clock.set(at(5));
        assertEquals(0, pit.read(0x61, 1) & 0x20);
        clock.set(at(10));
        assertEquals(0x20, pit.read(0x61, 1) & 0x20);
    }

    @Test
    void gateRisingEdgeRestartsMode2OnChannel2() {
        pit.write(0x61, 1, 1);
        pit.write(0x43, 1, 0xB4);
        pit.write(0x42, 1, 100);
        pit.write(0x42, 1, 0);
        clock.set(at(30));
        assertEquals(70, latched(2));
        pit.write(0x61, 1, 0);
        pit.write(0x61, 1, 1);
        assertEquals(100, latched(2));
    }

    @Test
    void channel0Mode2PulsesEveryPeriodAndCoalescesLateOnes() {
        pit.write(0x43, 1, 0x34);
        pit.write(0x40, 1, 1193 & 0xFF);
        pit.write(0x40, 1, 1193 >>> 8);
        long period = at(1193);
        assertEquals(period, pit.nextDeadline());
        pit.tick(period - 1);
        assertEquals(List.of(), line);
        clock.set(period);
        pit.tick(period);
        assertEquals(List.of(period + ":high", period + ":low"), line);
        assertEquals(at(2 * 1193), pit.nextDeadline());
        line.clear();
        long late = at(5 * 1193) + 7;
        pit.tick(late);
        assertEquals(2, line.size(), "three missed periods fire once");
        assertEquals(at(6 * 1193), pit.nextDeadline(), "and the next stays on the period grid");
    }

    @Test
    void channel0Mode0FiresOnce() {
        pit.write(0x43, 1, 0x30);
        pit.write(0x40, 1, 100);
        pit.write(0x40, 1, 0);
        pit.tick(at(100));
        assertEquals(2, line.size());
        assertEquals(Long.MAX_VALUE, pit.nextDeadline());
    }

    @Test
    void noChannel0PulsesBeforeTheGuestProgramsIt() {
        assertEquals(Long.MAX_VALUE, pit.nextDeadline());
        assertTrue(pit.out(0), "mode 3 after reset, OUT high in the first half period");
    }
}
