package dev.jkvm.it.compiler;

import dev.jkvm.klib.rt.Console;

/**
 * Java-subset code whose output is compared between the host JVM and the compiled code running
 * in ring 3 of a KVM guest. Every operand pair goes through every integer operation Java has;
 * each line prints a mix of the results, so one wrong operation changes that line.
 */
public final class RingThreeDriver {
    static final int[] INTS = {0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 0x7FFF_FFFF, 0x8000_0000, 0x1234_5678, 0xFFFF};
    static final long[] LONGS = {0, 1, -1, 2, -2, 7, -7, 63, 64, 65, 31, 0x7FFF_FFFF, 0x8000_0000L,
            Long.MAX_VALUE, Long.MIN_VALUE, 0x0123_4567_89AB_CDEFL, 0xFFFF_FFFFL, -0x8000_0000L};

    private RingThreeDriver() {
    }

    public static void run() {
        Console.print("ints\n");
        for (int i = 0; i < INTS.length; i++) {
            for (int j = 0; j < INTS.length; j++) {
                Console.printHex(mixInts(INTS[i], INTS[j]));
                Console.print("\n");
            }
        }
        Console.print("longs\n");
        for (int i = 0; i < LONGS.length; i++) {
            for (int j = 0; j < LONGS.length; j++) {
                Console.printHex(mixLongs(LONGS[i], LONGS[j]));
                Console.print("\n");
            }
        }
        Console.print("control\n");
        for (int n = -3; n < 40; n += 3) {
            Console.printHex(control(n));
            Console.print("\n");
        }
        Console.print("done\n");
    }

    private static long mix(long h, long v) {
        return (h ^ v) * 0x100000001B3L + (v >>> 29);
    }

    static long mixInts(int a, int b) {
        long h = 0xCBF29CE484222325L;
        h = mix(h, a + b);
        h = mix(h, a - b);
        h = mix(h, a * b);
        if (b != 0) {
            h = mix(h, a / b);
            h = mix(h, a % b);
        }
        h = mix(h, a << b);
        h = mix(h, a >> b);
        h = mix(h, a >>> b);
        h = mix(h, a & b);
        h = mix(h, a | b);
        h = mix(h, a ^ ~b);
        h = mix(h, -a);
        h = mix(h, a < b ? 1 : 0);
        h = mix(h, a <= b ? 3 : 5);
        h = mix(h, (byte) (a + b));
        h = mix(h, (short) (a - b));
        h = mix(h, (char) (a * b));
        h = mix(h, Integer.compareUnsigned(a, b) < 0 ? 7 : 11);
        return h;
    }

    static long mixLongs(long a, long b) {
        long h = 0x84222325CBF29CE4L;
        h = mix(h, a + b);
        h = mix(h, a - b);
        h = mix(h, a * b);
        if (b != 0) {
            h = mix(h, a / b);
            h = mix(h, a % b);
        }
        h = mix(h, a << b);
        h = mix(h, a >> b);
        h = mix(h, a >>> b);
        h = mix(h, a << (int) b);
        h = mix(h, a & b);
        h = mix(h, a | b);
        h = mix(h, a ^ ~b);
        h = mix(h, -a);
        h = mix(h, a < b ? 1 : 0);
        h = mix(h, a >= b ? 3 : 5);
        h = mix(h, (int) a);
        h = mix(h, (int) (a >>> 32) * (int) b);
        h = mix(h, Long.compare(a, b));
        return h;
    }

    /** Loops, a table switch, a lookup switch and recursion. */
    static long control(int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            switch (i % 5) {
                case 0 -> sum += i;
                case 1 -> sum -= 2L * i;
                case 2 -> sum ^= (long) i << 40;
                case 3 -> sum = sum * 3 + 1;
                default -> sum += fib(i % 12);
            }
            switch (i * 7919) {
                case 7919 -> sum += 1000;
                case 7919 * 13 -> sum -= 77;
                case 7919 * 29 -> sum ^= 0x5555;
                default -> { }
            }
        }
        return sum;
    }

    static long fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }
}
