package dev.jkvm.klib.compiler.samples;

/** Branches, loops, switches and calls for the differential test. */
public final class Control {
    private Control() {
    }

    public static int max(int a, int b) {
        return a > b ? a : b;
    }

    public static int signum(long v) {
        if (v > 0) {
            return 1;
        } else if (v < 0) {
            return -1;
        }
        return 0;
    }

    public static boolean inRange(int v, int lo, int hi) {
        return v >= lo && v <= hi;
    }

    public static int compareAll(int a, int b) {
        int r = 0;
        if (a == b) {
            r |= 1;
        }
        if (a != b) {
            r |= 2;
        }
        if (a < b) {
            r |= 4;
        }
        if (a <= b) {
            r |= 8;
        }
        if (a > b) {
            r |= 16;
        }
        if (a >= b) {
            r |= 32;
        }
        if (a == 0) {
            r |= 64;
        }
        if (a < 0) {
            r |= 128;
        }
        if (b > 0) {
            r |= 256;
        }
        if (b >= 0) {
            r |= 512;
        }
        if (a <= 0) {
            r |= 1024;
        }
        if (b != 0) {
            r |= 2048;
        }
        return r;
    }

    public static int compareAllLong(long a, long b) {
        int r = 0;
        if (a == b) {
            r |= 1;
        }
        if (a != b) {
            r |= 2;
        }
        if (a < b) {
            r |= 4;
        }
        if (a <= b) {
            r |= 8;
        }
        if (a > b) {
            r |= 16;
        }
        if (a >= b) {
            r |= 32;
        }
        if (a == 0) {
            r |= 64;
        }
        if (a < 0) {
            r |= 128;
        }
        return r;
    }

    public static int sumTo(int n) {
        int sum = 0;
        for (int i = 1; i <= n && i < 100000; i++) {
            sum += i;
        }
        return sum;
    }

    public static long collatzSteps(long n) {
        long x = n <= 0 ? 1 - n : n;
        long steps = 0;
        while (x != 1 && steps < 10000) {
            x = (x & 1) == 0 ? x / 2 : 3 * x + 1;
            steps++;
        }
        return steps;
    }

    public static int doWhile(int n) {
        int i = 0;
        int acc = 7;
        do {
            acc = acc * 3 + i;
            i++;
        } while (i < (n & 63));
        return acc;
    }

    public static int nested(int n) {
        int count = 0;
        for (int i = 0; i < (n & 31); i++) {
            for (int j = 0; j < i; j++) {
                if ((i ^ j) % 3 == 0) {
                    continue;
                }
                if (j > 20) {
                    break;
                }
                count += i * j;
            }
        }
        return count;
    }

    public static int denseSwitch(int k) {
        switch (k) {
            case 0:
                return 10;
            case 1:
                return 11;
            case 2:
                return 12;
            case 3:
            case 4:
                return 34;
            case 5:
                return 15;
            case 6:
                return 16;
            case 7:
                return 17;
            case 8:
                return 18;
            default:
                return -1;
        }
    }

    public static int sparseSwitch(int k) {
        return switch (k) {
            case -1000000 -> 1;
            case -5 -> 2;
            case 0 -> 3;
            case 7 -> 4;
            case 100 -> 5;
            case 1000 -> 6;
            case 65536 -> 7;
            case Integer.MAX_VALUE -> 8;
            case Integer.MIN_VALUE -> 9;
            default -> k & 0xF;
        };
    }

    public static int switchInLoop(int n) {
        int acc = 0;
        for (int i = 0; i < (n & 15) + 3; i++) {
            switch (i % 4) {
                case 0 -> acc += 1;
                case 1 -> acc *= 3;
                case 2 -> acc ^= 0x55;
                default -> acc -= i;
            }
        }
        return acc;
    }

    private static int fib(int n) {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }

    public static int fibOf(int n) {
        return fib(n & 15);
    }

    public static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public static int ackermannSmall(int m, int n) {
        return ack(m & 1, n & 3);
    }

    private static int ack(int m, int n) {
        if (m == 0) {
            return n + 1;
        }
        if (n == 0) {
            return ack(m - 1, 1);
        }
        return ack(m - 1, ack(m, n - 1));
    }

    public static int callsKeepStack(int a, int b) {
        return a * 1000 + max(a, b) - (b + max(b, a * 2)) * signum(a - b);
    }

    public static long eightArgs(long a, int b, long c, int d, long e, int f, long g, int h) {
        return a - b * 2 + c * 3 - d * 4 + e * 5 - f * 6 + g * 7 - h * 8;
    }

    public static long callsEightArgs(long x, int y) {
        return eightArgs(x, y, x + 1, y + 1, x + 2, y + 2, x + 3, y + 3) + eightArgs(1, 2, 3, 4, 5, 6, 7, y);
    }

    public static int ternaryChain(int a, int b, int c) {
        return a > b ? (b > c ? 1 : 2) : (a > c ? 3 : a == c ? 4 : 5);
    }

    public static boolean logicalOps(int a, int b) {
        boolean p = a > 0;
        boolean q = b > 0;
        return (p ^ q) | (p & !q) || (a == b && !p);
    }

    public static int divideInCall(int a, int b) {
        return max(a / b, 3) + a % (b | 1);
    }

    public static int manyLocals(int a, int b) {
        int c = a + 1, d = b - 2, e = a * 3, f = b ^ 5, g = a >> 2, h = b << 3, i = a | 7, j = b & 9;
        int k = a - b, l = a + b, m = c * d, n = e - f, o = g + h, p = i ^ j, q = k | l, r = m & n;
        for (int t = 0; t < (a & 7); t++) {
            c += d; d ^= e; e -= f; f += g; g ^= h; h += i; i -= j; j += k;
            k ^= l; l += m; m -= n; n += o; o ^= p; p += q; q -= r; r += c;
        }
        return c + d + e + f + g + h + i + j + k + l + m + n + o + p + q + r;
    }

    public static long manyLocalsAcrossCalls(long a, int b) {
        long c = a + 1, d = a * 3, e = a - b, f = a ^ b, g = a << 3, h = a >> 1, i = a | 7;
        int j = max(b, 3), k = max(j, b * 2), l = signum(a) + j;
        long m = gcd(c, d) + gcd(e | 1, f | 1);
        return c + d * 2 + e * 3 + f * 4 + g * 5 + h * 6 + i * 7 + j * 8 + k * 9 + l * 10 + m * 11 + max(k, l);
    }
}
