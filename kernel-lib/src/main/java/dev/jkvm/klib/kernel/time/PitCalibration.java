package dev.jkvm.klib.kernel.time;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Port;

/**
 * Measures the local APIC timer and the TSC against PIT channel 2.
 *
 * Why the PIT: the APIC timer counts at a bus or crystal clock whose rate the architecture leaves
 * open (Intel SDM Vol. 3A 11.5.4; CPUID leaf 0x15 often does not report it, and never under this
 * hypervisor), and the TSC rate is not architectural either, but the 8254 PIT counts at
 * 1,193,182 Hz on every PC. Channel 2 is the one channel whose gate software controls and whose
 * output it can poll (port 0x61 bit 0 gate, bit 1 speaker, bit 5 OUT2), so it measures an
 * interval without interrupts. The VMM's PIT is KVM's in-kernel model, which counts in real time.
 * Machines without port 0x61 (QEMU's microvm has no PC speaker, so the port reads 0xFF and
 * channel 2's gate stays low) get channel 0 instead, programmed the same way and polled through
 * counter-latch reads until it reaches zero.
 */
public final class PitCalibration {
    private PitCalibration() {
    }

    public static final int PIT_HZ = 1193182;
    public static final int MILLISECONDS = 50;
    private static final int COUNT = PIT_HZ / 1000 * MILLISECONDS;
    private static final int CHANNEL2_DATA = 0x42;
    private static final int COMMAND = 0x43;
    private static final int CONTROL = 0x61;
    /** Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary. */
    private static final int CHANNEL2_MODE0 = 0xB0;
    private static final int GATE2 = 1;
    private static final int SPEAKER = 1 << 1;
    private static final int OUT2 = 1 << 5;
    /** Divide configuration 0b0011: divide by 16 (11.5.4). */
    public static final int DIVIDE_BY_16 = 3;

    private static final int CHANNEL0_DATA = 0x40;
    /** Channel 0, low byte then high byte, mode 0, binary; and the channel 0 counter-latch command. */
    private static final int CHANNEL0_MODE0 = 0x30;
    private static final int CHANNEL0_LATCH = 0x00;
    private static final int NO_PORT = 0xFF;

    private static boolean channel2Used;
    private static long measuredLapicTicksPerMs;
    private static long measuredTscTicksPerMs;
    private static int pollCount;
    private static long microsPerPoll;

    /**
     * Runs one measurement with the APIC timer masked; results in the getters. Port and APIC
     * accesses are slow here (each may be a trip through the hypervisor), so every event is
     * timed by the TSC read just before and just after it and placed at the midpoint; the end of
     * the interval lies between the last poll that saw the PIT still counting and the first that
     * saw it done.
     */
    public static void run(int timerVector) {
        Lapic.write(Lapic.TIMER_DIVIDE, DIVIDE_BY_16);
        Lapic.write(Lapic.LVT_TIMER, Lapic.LVT_MASKED | timerVector);
        int control = Port.in8(CONTROL);
        channel2Used = control != NO_PORT;
        if (channel2Used) {
            Port.out8(CONTROL, (control & ~SPEAKER) | GATE2);
            Port.out8(COMMAND, CHANNEL2_MODE0);
            Port.out8(CHANNEL2_DATA, COUNT & 0xFF);
        } else {
            Port.out8(COMMAND, CHANNEL0_MODE0);
            Port.out8(CHANNEL0_DATA, COUNT & 0xFF);
        }
        long lapicBefore = Cpu.rdtsc();
        Lapic.write(Lapic.TIMER_INITIAL, -1);
        long lapicAfter = Cpu.rdtsc();
        // Writing the high byte starts the count-down.
        long pitBefore = Cpu.rdtsc();
        Port.out8(channel2Used ? CHANNEL2_DATA : CHANNEL0_DATA, COUNT >>> 8);
        long pitAfter = Cpu.rdtsc();
        long previousPoll = pitAfter;
        long lastPoll = pitAfter;
        int n = 0;
        int previous = COUNT;
        while (n < 10000000) {
            boolean done;
            if (channel2Used) {
                done = (Port.in8(CONTROL) & OUT2) != 0;
            } else {
                Port.out8(COMMAND, CHANNEL0_LATCH);
                int low = Port.in8(CHANNEL0_DATA);
                int count = low | (Port.in8(CHANNEL0_DATA) << 8);
                // Mode 0 wraps to 0xFFFF after zero: a count above the previous one means it got there.
                done = count == 0 || count > previous;
                previous = count;
            }
            previousPoll = lastPoll;
            lastPoll = Cpu.rdtsc();
            n++;
            if (done) {
                break;
            }
        }
        long readBefore = Cpu.rdtsc();
        long lapicElapsed = 0xFFFFFFFFL - (Lapic.read(Lapic.TIMER_CURRENT) & 0xFFFFFFFFL);
        long readAfter = Cpu.rdtsc();
        Lapic.write(Lapic.TIMER_INITIAL, 0);
        pollCount = n;
        long pitTsc = (previousPoll + lastPoll) / 2 - (pitBefore + pitAfter) / 2;
        measuredTscTicksPerMs = pitTsc / MILLISECONDS;
        long lapicTsc = (readBefore + readAfter) / 2 - (lapicBefore + lapicAfter) / 2;
        measuredLapicTicksPerMs = lapicTsc > 0 ? lapicElapsed * measuredTscTicksPerMs / lapicTsc : 0;
        microsPerPoll = n > 0 && measuredTscTicksPerMs > 0 ? (lastPoll - pitAfter) * 1000 / n / measuredTscTicksPerMs : 0;
    }

    /** Average microseconds per poll: the measurement's resolution. */
    public static long pollMicros() {
        return microsPerPoll;
    }

    /** Whether channel 2 (gated through port 0x61) was used, else channel 0. */
    public static boolean usedChannel2() {
        return channel2Used;
    }

    public static long lapicTicksPerMs() {
        return measuredLapicTicksPerMs;
    }

    public static long tscTicksPerMs() {
        return measuredTscTicksPerMs;
    }

    public static int polls() {
        return pollCount;
    }
}
