package dev.jkvm.klib.kernel.time;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Port;

/**
 * Measures the local APIC timer and the TSC against PIT channel 2.
 *
 * Why the PIT: the APIC timer counts at a bus or crystal clock whose rate the architecture leaves
 * open (Intel SDM Vol. 3A 11.5.4; CPUID leaf 0x15 often does not report it, and never under this
 * hypervisor), and the TSC rate is not architectural either, but the 8254 PIT counts at
 * 1,193,182 Hz on every PC. Channel 2 is the one channel software can start and stop without
 * touching the interrupt controller (its gate is port 0x61 bit 0, with the speaker, bit 1, kept
 * off), and it is never wired to an IRQ, so it measures an interval without interrupts; its
 * counter is read through latch commands (see run). The VMM's PIT is KVM's in-kernel model,
 * which counts in real time. Machines without port 0x61 (QEMU's microvm has no PC speaker, so
 * the port reads 0xFF and channel 2's gate stays low) get channel 0 instead, programmed the same
 * way; its IRQ stays masked because the kernel never unmasks a PIC or I/O APIC input.
 */
public final class PitCalibration {
    private PitCalibration() {
    }

    public static final int PIT_HZ = 1193182;
    public static final int MILLISECONDS = 20;
    public static final int ROUNDS = 3;
    /** Rounds tried at most to get ROUNDS unambiguous ones (see run). */
    static final int MAX_ROUNDS = 12;
    private static final int COUNT = PIT_HZ / 1000 * MILLISECONDS;
    private static final int CHANNEL2_DATA = 0x42;
    private static final int COMMAND = 0x43;
    private static final int CONTROL = 0x61;
    /** Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary. */
    private static final int CHANNEL2_MODE0 = 0xB0;
    private static final int GATE2 = 1;
    private static final int SPEAKER = 1 << 1;
    /** Divide configuration 0b0011: divide by 16 (11.5.4). */
    public static final int DIVIDE_BY_16 = 3;

    private static final int CHANNEL0_DATA = 0x40;
    /** Channel 0, low byte then high byte, mode 0, binary; and the channel 0 counter-latch command. */
    private static final int CHANNEL0_MODE0 = 0x30;
    private static final int CHANNEL0_LATCH = 0x00;
    private static final int CHANNEL2_LATCH = 0x80;
    private static final int NO_PORT = 0xFF;

    private static boolean channel2Used;
    private static long measuredLapicTicksPerMs;
    private static long measuredTscTicksPerMs;
    private static int pollCount;

    /**
     * Runs one measurement with the APIC timer masked; results in the getters.
     *
     * Port and APIC accesses are slow here (each may be a trip through the hypervisor, and the
     * vCPU may be descheduled between two of them), so the end of the interval is not taken from
     * when a poll first notices the count-down finished: each poll latches the counter (8254
     * counter-latch command) between two TSC reads, so the PIT ticks elapsed at that instant are
     * exact and only the latch's own duration is uncertain. The APIC timer is related to the TSC
     * the same way, by TSC reads bracketing its start and its final read.
     */
    public static void run(int timerVector) {
        long bestWidth = Long.MAX_VALUE;
        long bestTsc = 0;
        long bestLapic = 0;
        long fallbackWidth = Long.MAX_VALUE;
        long fallbackTsc = 0;
        long fallbackLapic = 0;
        int kept = 0;
        int totalPolls = 0;
        for (int round = 0; round < MAX_ROUNDS && kept < ROUNDS; round++) {
            measureOnce(timerVector);
            totalPolls += pollCount;
            if (measuredTscTicksPerMs <= 0) {
                continue;
            }
            // The counter is 16 bits wide: a vCPU the host kept off its core for more than one
            // period (0x10000 PIT ticks, 55 ms) between two polls missed a wrap, and the round
            // measured a period too few. Such a gap is most of the round's TSC time (the count
            // itself is 20 ms), so a round whose widest gap between polls is half of it or more
            // is ambiguous; it is only used when no unambiguous round came in MAX_ROUNDS (seen on
            // a 2-core host at load average 200: the TSC measured at 2x-4x its rate).
            if (widestPollGap * 2 < roundTsc) {
                kept++;
                // A vCPU descheduled inside one of the bracketed accesses widens its bracket: keep
                // the round whose brackets are narrowest, i.e. whose instants are known best.
                if (bracketWidth < bestWidth) {
                    bestWidth = bracketWidth;
                    bestTsc = measuredTscTicksPerMs;
                    bestLapic = measuredLapicTicksPerMs;
                }
            } else if (bracketWidth < fallbackWidth) {
                fallbackWidth = bracketWidth;
                fallbackTsc = measuredTscTicksPerMs;
                fallbackLapic = measuredLapicTicksPerMs;
            }
        }
        if (kept == 0) {
            bestWidth = fallbackWidth;
            bestTsc = fallbackTsc;
            bestLapic = fallbackLapic;
        }
        measuredTscTicksPerMs = bestTsc;
        measuredLapicTicksPerMs = bestLapic;
        pollCount = totalPolls;
        keptUncertaintyMicros = bestTsc > 0 ? bestWidth * 1000 / bestTsc : 0;
    }

    /** Sum of the TSC brackets of the events one measurement relies on. */
    private static long bracketWidth;
    /** The widest TSC gap between two consecutive counter latches of one measurement. */
    private static long widestPollGap;
    /** TSC ticks from the start of the count-down to the sample that ended it, of one measurement. */
    private static long roundTsc;
    private static long keptUncertaintyMicros;

    /** Microseconds of timing uncertainty of the round that was kept (its bracket widths). */
    public static long uncertaintyMicros() {
        return keptUncertaintyMicros;
    }

    private static void measureOnce(int timerVector) {
        Lapic.write(Lapic.TIMER_DIVIDE, DIVIDE_BY_16);
        Lapic.write(Lapic.LVT_TIMER, Lapic.LVT_MASKED | timerVector);
        int control = Port.in8(CONTROL);
        channel2Used = control != NO_PORT;
        int data = channel2Used ? CHANNEL2_DATA : CHANNEL0_DATA;
        int latch = channel2Used ? CHANNEL2_LATCH : CHANNEL0_LATCH;
        if (channel2Used) {
            Port.out8(CONTROL, (control & ~SPEAKER) | GATE2);
            Port.out8(COMMAND, CHANNEL2_MODE0);
        } else {
            Port.out8(COMMAND, CHANNEL0_MODE0);
        }
        Port.out8(data, COUNT & 0xFF);
        long lapicBefore = Cpu.rdtsc();
        Lapic.write(Lapic.TIMER_INITIAL, -1);
        long lapicAfter = Cpu.rdtsc();
        // Writing the high byte starts the count-down.
        long pitBefore = Cpu.rdtsc();
        Port.out8(data, COUNT >>> 8);
        long pitAfter = Cpu.rdtsc();
        int n = 0;
        int previous = COUNT;
        long elapsedTicks = 0;
        long sampledAt = pitAfter;
        long lastLatch = pitAfter;
        widestPollGap = 0;
        while (n < 10000000) {
            long before = Cpu.rdtsc();
            Port.out8(COMMAND, latch);
            long after = Cpu.rdtsc();
            if (after - lastLatch > widestPollGap) {
                widestPollGap = after - lastLatch;
            }
            lastLatch = after;
            int low = Port.in8(data);
            int count = low | (Port.in8(data) << 8);
            n++;
            // Mode 0 counts down to zero and wraps to 0xFFFF: a count above the previous one wrapped.
            if (count == 0 || count > previous) {
                elapsedTicks = count == 0 ? COUNT : COUNT + 0x10000L - count;
                sampledAt = (before + after) / 2;
                bracketWidth = after - before;
                break;
            }
            previous = count;
        }
        long readBefore = Cpu.rdtsc();
        long lapicElapsed = 0xFFFFFFFFL - (Lapic.read(Lapic.TIMER_CURRENT) & 0xFFFFFFFFL);
        long readAfter = Cpu.rdtsc();
        Lapic.write(Lapic.TIMER_INITIAL, 0);
        pollCount = n;
        bracketWidth += (pitAfter - pitBefore) + (lapicAfter - lapicBefore) + (readAfter - readBefore);
        long pitTsc = sampledAt - (pitBefore + pitAfter) / 2;
        roundTsc = pitTsc;
        // ticks per ms = TSC ticks / (PIT ticks / PIT_HZ seconds * 1000)
        measuredTscTicksPerMs = elapsedTicks > 0 ? pitTsc * PIT_HZ / (elapsedTicks * 1000) : 0;
        long lapicTsc = (readBefore + readAfter) / 2 - (lapicBefore + lapicAfter) / 2;
        measuredLapicTicksPerMs = lapicTsc > 0 ? lapicElapsed * measuredTscTicksPerMs / lapicTsc : 0;
    }


    /**
     * Bounds of a believable measurement. The TSC runs at 10 MHz to 100 GHz on anything that
     * runs x86-64; the APIC timer after the divide by 16 at 10 kHz to 10 GHz (bus or crystal
     * clocks from 160 kHz, SDM Vol. 3A 11.5.4). Outside them the PIT did not count (no PIT, as
     * with QEMU's pit=off: the ports read all ones) or something else went wrong.
     */
    static final long MIN_TSC_PER_MS = 10_000;
    static final long MAX_TSC_PER_MS = 100_000_000;
    static final long MIN_LAPIC_PER_MS = 10;
    static final long MAX_LAPIC_PER_MS = 10_000_000;

    /**
     * Whether the last run measured rates within the bounds above; otherwise one line that says
     * so and what it means: the kernel has no usable timer and stops (the scheduler's ticks,
     * the AP start-up delays and every timeout depend on it).
     */
    public static boolean plausible() {
        if (measuredTscTicksPerMs >= MIN_TSC_PER_MS && measuredTscTicksPerMs <= MAX_TSC_PER_MS
                && measuredLapicTicksPerMs >= MIN_LAPIC_PER_MS && measuredLapicTicksPerMs <= MAX_LAPIC_PER_MS) {
            return true;
        }
        Console.print("timer: calibration against the 8254 PIT is out of range (tsc ");
        Console.printHex(measuredTscTicksPerMs);
        Console.print(", lapic ");
        Console.printHex(measuredLapicTicksPerMs);
        Console.print(" ticks/ms): no usable PIT (ports 0x40-0x43; QEMU's pit=off removes it), so no timer"
                + " to calibrate the local APIC and the TSC against; stopping\n");
        return false;
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
