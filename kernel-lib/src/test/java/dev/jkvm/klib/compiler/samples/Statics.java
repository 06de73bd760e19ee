package dev.jkvm.klib.compiler.samples;

/** Static fields and constant arrays for the differential test. */
public final class Statics {
    private Statics() {
    }

    static int counter = 5;
    static long total = -3L;
    static byte smallByte = -7;
    static short smallShort = 1234;
    static char letter = 'q';
    static boolean flag = true;
    static final int COMPUTED = Integer.parseInt("77");

    static final int[] PRIMES = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29};
    static final long[] POWERS = {1L, 10L, 100L, 1_000_000_000_000L, Long.MIN_VALUE, -1L};
    static final byte[] BYTES = {-128, -1, 0, 1, 127};
    static final short[] SHORTS = {-32768, -1, 0, 32767};
    static final char[] CHARS = {'a', 0xFFFF, 0};
    static final boolean[] BOOLS = {true, false, true};

    public static int bump(int by) {
        counter += by;
        return counter;
    }

    public static long accumulate(long v) {
        total = total * 3 + v;
        return total;
    }

    public static int narrowFields(int v) {
        smallByte += (byte) v;
        smallShort ^= (short) v;
        letter += (char) v;
        flag = !flag;
        return smallByte + smallShort + letter + (flag ? 1 : 0) + COMPUTED;
    }

    public static int prime(int i) {
        return PRIMES[i];
    }

    public static long power(int i) {
        return POWERS[i];
    }

    public static int narrowArrays(int i) {
        return BYTES[i % BYTES.length] + SHORTS[i % SHORTS.length] + CHARS[i % CHARS.length]
                + (BOOLS[i % BOOLS.length] ? 1000 : 0);
    }

    public static int sumPrimes() {
        int s = 0;
        for (int p : PRIMES) {
            s += p;
        }
        return s + PRIMES.length + PRIMES[3];
    }

    public static int arrayIndexFromCall(int i) {
        return PRIMES[Control.max(i, 0)];
    }
}
