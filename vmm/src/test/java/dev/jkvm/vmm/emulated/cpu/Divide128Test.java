package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Divide128} against BigInteger on edge and random dividends (the 128-bit DIV/IDIV path). */
class Divide128Test {
    private static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);

    private static BigInteger unsigned(long v) {
        return v >= 0 ? BigInteger.valueOf(v) : BigInteger.valueOf(v).add(TWO64);
    }

    private static void check(long hi, long lo, long d) {
        BigInteger n = unsigned(hi).shiftLeft(64).or(unsigned(lo));
        BigInteger[] qr = n.divideAndRemainder(unsigned(d));
        long q = Divide128.quotient(hi, lo, d);
        String what = Long.toHexString(hi) + ":" + Long.toHexString(lo) + " / " + Long.toHexString(d);
        assertEquals(qr[0].longValue(), q, what);
        assertEquals(qr[1].longValue(), lo - q * d, what + " remainder");
    }

    @Test
    void matchesBigInteger() {
        long[] edges = {1, 2, 3, 0xFFFF_FFFFL, 1L << 32, (1L << 32) + 1, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2,
                0x8000_0000_0000_0001L, 0x1_0000_0001L, 0xFFFF_FFFF_0000_0000L};
        for (long d : edges) {
            for (long hi : edges) {
                for (long lo : edges) {
                    if (Long.compareUnsigned(hi, d) < 0) check(hi, lo, d);
                }
                check(0, hi, d);
                check(d - 1, hi, d);
            }
        }
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) {
            long d = r.nextLong() >>> r.nextInt(64);
            if (d == 0) d = 1;
            long hi = Long.remainderUnsigned(r.nextLong() >>> r.nextInt(64), d);
            check(hi, r.nextLong(), d);
        }
    }
}
