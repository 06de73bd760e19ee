package dev.jkvm.klib.kernel.user;

/**
 * Counting primes by trial division: the default workload's CPU-bound kernel, run in ring 3
 * in the guest and on the host JVM at image build time for the expected answer (Workload).
 */
public final class PrimeCount {
    private PrimeCount() {
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
