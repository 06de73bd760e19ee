package dev.jkvm.klib.kernel.user;

/**
 * Counting primes by trial division: the default image's workload (workload.UserWorkload), the
 * primes below LIMIT counted in CHUNKS ring-3 tasks, run in the guest and on the host JVM at
 * image build time for the expected answer.
 */
public final class PrimeCount {
    private PrimeCount() {
    }

    public static final long LIMIT = 4_000_000;
    public static final int CHUNKS = 50;
    /**
     * [0, LIMIT) in BLOCKS blocks dealt out round-robin, so every task gets blocks from the whole
     * range: trial division costs more for larger numbers, and contiguous chunks would leave the
     * CPUs that ran the small ones idle while the last, largest chunks run.
     */
    public static final int BLOCKS = 1000;
    public static final long BLOCK = LIMIT / BLOCKS;

    /** The workload method: primes in blocks index, index + CHUNKS, index + 2 * CHUNKS, ... */
    public static long share(long index) {
        long count = 0;
        for (long block = index; block < BLOCKS; block += CHUNKS) {
            count += inRange(block * BLOCK, (block + 1) * BLOCK);
        }
        return count;
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
