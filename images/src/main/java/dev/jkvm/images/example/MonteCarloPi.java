package dev.jkvm.images.example;

import dev.jkvm.klib.rt.Console;

/**
 * A user workload (kernel-lib's UserWorkload): estimates pi by throwing points at the unit
 * square and counting those inside the quarter circle. Each task throws POINTS points from a
 * pseudo-random sequence seeded by its index, so its count depends on the index alone and the
 * host JVM reproduces it exactly; integers only, as the Java subset requires (coordinates are
 * 31-bit fixed-point fractions, so x*x + y*y fits in a long).
 */
public final class MonteCarloPi {
    private MonteCarloPi() {
    }

    public static final long POINTS = 200_000;
    /** One unit in the 31-bit fixed point of the coordinates. */
    private static final long ONE = 1L << 31;

    /** Points of task index's sequence that fall inside the quarter circle of radius ONE. */
    public static long task(long index) {
        if (index == 0) {
            Console.print("pi: task 0 throwing points in ring 3\n");
        }
        long state = mix(index + 1);
        long inside = 0;
        for (long i = 0; i < POINTS; i++) {
            state = next(state);
            long x = state >>> 33;
            state = next(state);
            long y = state >>> 33;
            if (x * x + y * y < ONE * ONE) {
                inside++;
            }
        }
        return inside;
    }

    /** Knuth's MMIX linear congruential generator (TAOCP Vol. 2, 3.3.4). */
    static long next(long state) {
        return state * 6364136223846793005L + 1442695040888963407L;
    }

    /** Spreads small seeds over all 64 bits (SplitMix64's finaliser), so neighbouring tasks differ. */
    static long mix(long seed) {
        long z = seed * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
