package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import org.junit.jupiter.api.Test;

/**
 * The kernel's PIT calibration (kernel-lib's PitCalibration.measureOnce) replayed against our
 * PIT and LAPIC, with guest time advancing a fixed step per port or APIC access as an emulated
 * CPU would: its channel-2 poll loop must end, and the LAPIC rate it derives must be the one
 * the model counts at (1 GHz bus clock / 16 = 62,500 ticks per ms).
 */
class PitCalibrationTest {
    private static final long STEP_NANOS = 2_500;  // guest time per I/O access
    private final FakeClock clock = new FakeClock();
    private final IrqChip chip = new IrqChip(clock);
    private final LocalApic apic = chip.addCpu(0, true, new CpuEvents());
    private final PortIoBus ports = new PortIoBus();

    PitCalibrationTest() {
        chip.registerPorts(ports);
    }

    private int in(int port) {
        clock.advance(STEP_NANOS);
        return ports.read(port, 1) & 0xFF;
    }

    private void out(int port, int value) {
        clock.advance(STEP_NANOS);
        ports.write(port, 1, value);
    }

    private void lapicWrite(int reg, int value) {
        clock.advance(STEP_NANOS);
        apic.mmioWrite(reg, 4, value & 0xFFFF_FFFFL);
    }

    private long lapicRead(int reg) {
        clock.advance(STEP_NANOS);
        return apic.mmioRead(reg, 4);
    }

    /** RDTSC: the guest's TSC from the same clock. */
    private long rdtsc() { return clock.tscAt(clock.nanos()); }

    @Test
    void channel2CalibrationSeesBothTimersAtTheirRates() {
        int count = 1193182 / 1000 * 20;
        lapicWrite(LocalApic.REG_TIMER_DIVIDE, 3);
        lapicWrite(LocalApic.REG_LVT_TIMER, LocalApic.LVT_MASKED | 0xEF);
        int control = in(0x61);
        assertTrue(control != 0xFF, "port 0x61 is decoded: the kernel takes channel 2");
        out(0x61, (control & ~2) | 1);
        out(0x43, 0xB0);
        out(0x42, count & 0xFF);
        long lapicBefore = rdtsc();
        lapicWrite(LocalApic.REG_TIMER_INITIAL, -1);
        long lapicAfter = rdtsc();
        long pitBefore = rdtsc();
        out(0x42, count >>> 8);
        long pitAfter = rdtsc();
        int previous = count;
        long elapsedTicks = 0;
        long sampledAt = 0;
        int polls = 0;
        while (polls < 10_000_000) {
            long before = rdtsc();
            out(0x43, 0x80);
            long after = rdtsc();
            int c = in(0x42) | (in(0x42) << 8);
            polls++;
            if (c == 0 || c > previous) {
                elapsedTicks = c == 0 ? count : count + 0x10000L - c;
                sampledAt = (before + after) / 2;
                break;
            }
            previous = c;
        }
        long readBefore = rdtsc();
        long lapicElapsed = 0xFFFF_FFFFL - (lapicRead(LocalApic.REG_TIMER_CURRENT) & 0xFFFF_FFFFL);
        long readAfter = rdtsc();
        assertTrue(elapsedTicks > 0, "the poll loop saw channel 2 reach terminal count");
        long tscPerMs = (sampledAt - (pitBefore + pitAfter) / 2) * 1193182 / (elapsedTicks * 1000);
        long lapicTsc = (readBefore + readAfter) / 2 - (lapicBefore + lapicAfter) / 2;
        long lapicPerMs = lapicElapsed * tscPerMs / lapicTsc;
        assertEquals(2_000_000, tscPerMs, 2_000_000 / 200, "TSC at 2 GHz within 0.5%");
        assertEquals(62_500, lapicPerMs, 62_500 / 200, "LAPIC at 1 GHz / 16 within 0.5%");
        assertTrue(polls > 100, "the count was polled down, not jumped: " + polls);
    }
}
