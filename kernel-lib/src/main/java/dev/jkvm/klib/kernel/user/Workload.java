package dev.jkvm.klib.kernel.user;

/**
 * The default image's workload: the primes below LIMIT counted in CHUNKS ring-3 tasks. EXPECTED
 * is computed by the host JVM when the image is built (the compiler takes static field values
 * from the class initialiser it runs there), so the guest checks its answer against an
 * independent run of the same Java code.
 */
public final class Workload {
    private Workload() {
    }

    public static final long LIMIT = 2_000_000;
    public static final int CHUNKS = 50;
    public static final long CHUNK = LIMIT / CHUNKS;

    /** Primes below LIMIT, computed at build time on the host. */
    public static long expected = PrimeCount.inRange(0, LIMIT);
}
