package dev.jkvm.klib.compiler.samples;

/** Integer arithmetic edge cases for the differential test (every method is compiled and run on both sides). */
public final class Arithmetic {
    private Arithmetic() {
    }

    public static int add(int a, int b) {
        return a + b;
    }

    public static int sub(int a, int b) {
        return a - b;
    }

    public static int mul(int a, int b) {
        return a * b;
    }

    public static int div(int a, int b) {
        return a / b;
    }

    public static int rem(int a, int b) {
        return a % b;
    }

    public static int divByMinusOne(int a) {
        return a / -1;
    }

    public static int remByMinusOne(int a) {
        return a % -1;
    }

    public static int divBySeven(int a) {
        return a / 7 + a % 7;
    }

    public static int divConstantByVar(int b) {
        return 1000 / b + Integer.MIN_VALUE / b;
    }

    public static long ladd(long a, long b) {
        return a + b;
    }

    public static long lsub(long a, long b) {
        return a - b;
    }

    public static long lmul(long a, long b) {
        return a * b;
    }

    public static long ldiv(long a, long b) {
        return a / b;
    }

    public static long lrem(long a, long b) {
        return a % b;
    }

    public static int neg(int a) {
        return -a;
    }

    public static long lneg(long a) {
        return -a;
    }

    public static int logic(int a, int b) {
        return (a & b) ^ (a | ~b);
    }

    public static long llogic(long a, long b) {
        return (a & b) ^ (a | ~b) ^ (a & 0xFFFF_0000_FFFFL);
    }

    public static int shl(int a, int n) {
        return a << n;
    }

    public static int shr(int a, int n) {
        return a >> n;
    }

    public static int ushr(int a, int n) {
        return a >>> n;
    }

    public static long lshl(long a, int n) {
        return a << n;
    }

    public static long lshr(long a, int n) {
        return a >> n;
    }

    public static long lushr(long a, int n) {
        return a >>> n;
    }

    public static int constantShifts(int a) {
        return (a << 33) + (a >> 31) + (a >>> 32) + (a << 0);
    }

    public static long longConstantShifts(long a) {
        return (a << 65) + (a >> 63) + (a >>> 1) + (a << 64);
    }

    public static long widen(int a) {
        return a;
    }

    public static int narrow(long a) {
        return (int) a;
    }

    public static byte toByte(int a) {
        return (byte) a;
    }

    public static short toShort(int a) {
        return (short) a;
    }

    public static char toChar(int a) {
        return (char) a;
    }

    public static int casts(long a) {
        byte b = (byte) a;
        short s = (short) (a >> 8);
        char c = (char) (a >>> 3);
        return b + s + c;
    }

    public static int lcmp(long a, long b) {
        return Long.compare(a, b);
    }

    public static boolean lessThan(long a, long b) {
        return a < b;
    }

    public static int mixed(int a, long b, short c, byte d, char e, boolean f) {
        long t = a * b + c - d * e;
        return f ? (int) (t >>> 7) : (int) t;
    }

    public static int deep(int a, int b) {
        return a + (b * (a - (b + (a * (b - (a + (b * (a - (b + 1)))))))));
    }

    public static long deepLong(long a, long b) {
        return a ^ (b + (a * (b - (a | (b + (a & (b - (a + (b * 3)))))))));
    }

    public static int increment(int a) {
        int x = a;
        x += 100000;
        x -= 7;
        x++;
        int y = x++ + ++x;
        return x * 31 + y;
    }

    public static int swapViaTemp(int a, int b) {
        int t = a;
        a = b;
        b = t;
        return a * 3 - b;
    }

    /** Rotations written with shifts (the compiler turns the exact pattern into rol) and near misses. */
    public static int rotations(int a, long b) {
        int r1 = (a << 1) | (a >>> 31);
        int r7 = (a << 7) | (a >>> 25);
        long r13 = (b << 13) | (b >>> 51);
        int notRotate = (a << 3) | (a >>> 28);
        int mixed = (a << 5) | (r1 >>> 27);
        return r1 ^ r7 * 3 ^ (int) (r13 ^ (r13 >>> 32)) ^ notRotate * 5 ^ mixed * 7;
    }
}
