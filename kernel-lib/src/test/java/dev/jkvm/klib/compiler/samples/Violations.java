package dev.jkvm.klib.compiler.samples;

import dev.jkvm.klib.rt.Console;

/**
 * Methods outside the kernel subset; each offending line carries a "VIOLATION:" marker that
 * CompilerSubsetViolationTest looks up in this source file to learn the expected line.
 */
public final class Violations {
    private Violations() {
    }

    static int[] writable = {1, 2, 3};
    static final int[] TABLE = {1, 2, 3};

    public static int allocates(int a) {
        Object o = new Object(); // VIOLATION:allocates
        return a + o.hashCode();
    }

    public static int allocatesArray(int n) {
        int[] t = new int[n]; // VIOLATION:allocatesArray
        return t.length;
    }

    public static int callsVirtual(int a) {
        return a + "abc".length(); // VIOLATION:callsVirtual
    }

    public static int usesFloat(int a) {
        float f = a; // VIOLATION:usesFloat
        return (int) (f * 2);
    }

    public static int storesIntoArray(int a) {
        TABLE[0] = a; // VIOLATION:storesIntoArray
        return TABLE[1];
    }

    public static int readsWritableArray(int i) {
        return writable[i]; // VIOLATION:readsWritableArray
    }

    public static void concatenates(int a) {
        Console.print("a=" + a); // VIOLATION:concatenates
    }

    /** The two literals meet at the call: the fall-through's would be printed on both paths. */
    public static void choosesLiteral(int a) {
        Console.print(a > 0 ? "yes" : "no");
    }

    public static synchronized int lockedMethod(int a) {
        return a;
    }

    public static int catches(int a) {
        try {
            return 10 / a;
        } catch (ArithmeticException e) {
            return 0;
        }
    }

    public int instanceMethod(int a) {
        return a;
    }
}
