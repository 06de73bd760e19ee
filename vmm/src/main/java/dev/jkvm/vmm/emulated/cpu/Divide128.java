package dev.jkvm.vmm.emulated.cpu;

/**
 * Unsigned 128-by-64-bit division for DIV/IDIV with a 64-bit operand when the dividend does not
 * fit 64 bits: two 64-by-32-bit digit steps (Knuth's algorithm D with 32-bit digits, as in Hacker's
 * Delight's {@code divlu}) on {@link Long#divideUnsigned}, instead of a 64-step shift-subtract loop.
 */
final class Divide128 {
    private Divide128() {}

    private static final long B = 1L << 32;

    /**
     * The quotient of {@code hi:lo / d}, unsigned, for {@code hi < d} (unsigned; the quotient then
     * fits 64 bits). The remainder is {@code lo - q * d} (mod 2^64).
     */
    static long quotient(long hi, long lo, long d) {
        int s = Long.numberOfLeadingZeros(d); // normalize: the divisor's top bit set
        d <<= s;
        long un32 = s == 0 ? hi : hi << s | lo >>> (64 - s);
        long un10 = lo << s;
        long vn1 = d >>> 32, vn0 = d & 0xFFFF_FFFFL;
        long un1 = un10 >>> 32, un0 = un10 & 0xFFFF_FFFFL;

        long q1 = Long.divideUnsigned(un32, vn1);
        long rhat = un32 - q1 * vn1;
        while (Long.compareUnsigned(q1, B) >= 0 || Long.compareUnsigned(q1 * vn0, rhat << 32 | un1) > 0) {
            q1--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, B) >= 0) break;
        }
        long un21 = (un32 << 32 | un1) - q1 * d;

        long q0 = Long.divideUnsigned(un21, vn1);
        rhat = un21 - q0 * vn1;
        while (Long.compareUnsigned(q0, B) >= 0 || Long.compareUnsigned(q0 * vn0, rhat << 32 | un0) > 0) {
            q0--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, B) >= 0) break;
        }
        return q1 << 32 | q0;
    }
}
