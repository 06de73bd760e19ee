package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.rt.Console;

/**
 * Test Anything Protocol output on the console (TAP version 12: a plan line "1..N", one
 * "ok N - description" or "not ok N - description" line per test, "# ..." comments). The caller
 * prints the description between begin and end, so descriptions stay string literals.
 */
public final class Tap {
    private Tap() {
    }

    private static int failureCount;

    public static void plan(int tests) {
        Console.print("1..");
        Log.dec(tests);
        Console.print("\n");
    }

    public static void begin(boolean ok, int number) {
        if (!ok) {
            failureCount++;
            Console.print("not ");
        }
        Console.print("ok ");
        Log.dec(number);
        Console.print(" - ");
    }

    public static void end() {
        Console.print("\n");
    }

    /** Starts a "# " comment line; the caller ends it with end(). */
    public static void comment() {
        Console.print("# ");
    }

    public static int failures() {
        return failureCount;
    }
}
