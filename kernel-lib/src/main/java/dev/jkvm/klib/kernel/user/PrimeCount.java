package dev.jkvm.klib.kernel.user;

/**
 * Counting primes by trial division: the default image's workload (workload.UserWorkload), the
 * primes below LIMIT counted in CHUNKS ring-3 tasks, run in the guest and on the host JVM at
 * image build time for the expected answer.
 */
public final class PrimeCount {
    private PrimeCount() {
    }

    public static final long LIMIT = 2_000_000;
    public static final int CHUNKS = 50;
    public static final long CHUNK = LIMIT / CHUNKS;

    /** The workload method: primes in chunk number index of [0, LIMIT). */
    public static long chunk(long index) {
        return inRange(index * CHUNK, (index + 1) * CHUNK);
    }

    public static long inRange(long from, long to) {
        long count = 0;
        for (long n = from < 2 ? 2 : from; n < to; n++) {
            if (isPrime(n)) {
                count++;
            }
        }
        return count;
    }

    static boolean isPrime(long n) {
        if (n < 4) {
            return n >= 2;
        }
        if (n % 2 == 0) {
            return false;
        }
        for (long d = 3; d * d <= n; d += 2) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }
}
