package dev.jkvm.klib.kernel.time;

import dev.jkvm.klib.rt.Cpu;

/** Busy-wait delays and deadlines on the TSC, calibrated against the PIT (PitCalibration). */
public final class Delay {
    private Delay() {
    }

    private static long tscPerMs = 1000000;

    public static void calibrated(long ticksPerMs) {
        if (ticksPerMs > 0) {
            tscPerMs = ticksPerMs;
        }
    }

    public static long now() {
        return Cpu.rdtsc();
    }

    /** The TSC value microseconds from now. */
    public static long deadline(long microseconds) {
        return Cpu.rdtsc() + microseconds * tscPerMs / 1000;
    }

    public static boolean passed(long deadline) {
        return Cpu.rdtsc() - deadline >= 0;
    }

    public static void micros(long microseconds) {
        long end = deadline(microseconds);
        while (!passed(end)) {
            Cpu.pause();
        }
    }

    /** Microseconds between two TSC readings. */
    public static long elapsedMicros(long start, long end) {
        return (end - start) * 1000 / tscPerMs;
    }
}
