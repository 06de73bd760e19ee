package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

import java.nio.charset.StandardCharsets;

/**
 * The kernel command line (Multiboot 0.6.96 §3.3, info flags bit 2), parsed strictly: words
 * separated by spaces, each one of the switches below, exactly. A word that is not is named on
 * one line together with everything that is accepted, and the run fails (a typo must not turn
 * into a different, passing run).
 *
 *   test=fault|panic|hang|overflow|write-text|xdata|lost-wakeup|deadlock|boot|sched-NAME
 *                   a failure path or one test
 *   expect-cpus=N   the run fails unless exactly N CPUs come online (1-1024)
 *   storm-ms=N      the self-test suite's IPI storm budget in ms (1-60000)
 *   watchdog-ms=N   the per-task watchdog's limit for workload tasks in ms (1-3600000; proc.Watchdog)
 *   sched-spin=N    iterations of the scheduler tests' CPU-bound user task (1-300000000; default
 *                   task.SchedTests.SPIN_ITERATIONS): the same tests at a size a slow CPU finishes
 *   selftest        run the SMP self-test suite (built into the self-test image)
 *
 * QEMU and GRUB start the command line with the kernel image's path (QEMU: "PATH ARGS", boot
 * loader name "qemu"); our VMM passes only the arguments and names itself "jkvm". So the first
 * word is skipped whenever a boot loader name other than "jkvm" is given (flags bit 9).
 */
public final class CommandLine {
    private CommandLine() {
    }

    private static final int FLAG_COMMAND_LINE = 1 << 2;
    private static final int FLAG_BOOT_LOADER_NAME = 1 << 9;
    private static final int OFFSET_COMMAND_LINE = 16;
    private static final int OFFSET_BOOT_LOADER_NAME = 64;
    private static final int MAX_LENGTH = 4096;

    public static final int TEST_NONE = 0;
    public static final int TEST_FAULT = 1;
    public static final int TEST_PANIC = 2;
    public static final int TEST_HANG = 3;
    public static final int TEST_OVERFLOW = 4;
    public static final int TEST_WRITE_TEXT = 5;
    public static final int TEST_EXECUTE_DATA = 6;
    public static final int TEST_LOST_WAKEUP = 9;
    public static final int TEST_DEADLOCK = 10;
    private static final int SELFTEST = -1;

    /** Built on the host (class initialisers are not compiled): the exact words, NUL-terminated. */
    private static final byte[] WORDS = ("test=fault\0test=panic\0test=hang\0test=overflow\0test=write-text\0"
            + "test=xdata\0test=lost-wakeup\0test=deadlock\0test=boot\0test=sched-fairness\0test=sched-migration\0test=sched-priority\0"
            + "test=sched-timeouts\0test=sched-stress\0test=sched-bench\0test=sched-affinity\0"
            + "test=sched-join\0test=sched-isolation\0test=sched-kernel-memory\0selftest\0")
            .getBytes(StandardCharsets.US_ASCII);
    /** What each word of WORDS means: a test word (Kernel's, or MainTask's for boot and sched-NAME). */
    private static final int[] MEANINGS = {TEST_FAULT, TEST_PANIC, TEST_HANG, TEST_OVERFLOW, TEST_WRITE_TEXT,
        TEST_EXECUTE_DATA, TEST_LOST_WAKEUP, TEST_DEADLOCK, MainTask.BOOT_ONLY, sched('f'), sched('m'), sched('p'), sched('t'), sched('s'),
        sched('b'), sched('a'), sched('j'), sched('i'), sched('k'), SELFTEST};
    /** The switches that take a decimal number, NUL-terminated, with their ranges. */
    private static final byte[] NUMERIC = "expect-cpus=\0storm-ms=\0watchdog-ms=\0sched-spin=\0".getBytes(StandardCharsets.US_ASCII);
    private static final long[] NUMERIC_MAX = {1024, 60000, 3600000, 300_000_000};
    private static final int EXPECT_CPUS = 0;
    private static final int STORM_MS = 1;
    private static final int WATCHDOG_MS = 2;
    private static final int SCHED_SPIN = 3;

    private static final int UNKNOWN = 0;
    private static final int TWICE = 1;
    private static final int BAD_NUMBER = 2;

    private static int test;
    private static boolean selftest;
    private static int expectCpus;
    private static long stormMs;
    private static long watchdogMs;
    private static long schedSpin;
    private static boolean testGiven;

    private static int sched(char letter) {
        return MainTask.SCHED_TEST | letter << 8;
    }

    /** Parses the command line of this multiboot information; false (after one line) on an error. */
    public static boolean parse(long info) {
        test = TEST_NONE;
        selftest = false;
        expectCpus = 0;
        stormMs = 0;
        watchdogMs = 0;
        schedSpin = 0;
        testGiven = false;
        if (info == 0 || (Memory.load32(info) & FLAG_COMMAND_LINE) == 0) {
            return true;
        }
        long p = Memory.load32(info + OFFSET_COMMAND_LINE) & 0xFFFFFFFFL;
        long end = p;
        while (end < p + MAX_LENGTH && Memory.load8(end) != 0) {
            end++;
        }
        boolean skipFirst = (Memory.load32(info) & FLAG_BOOT_LOADER_NAME) != 0
                && !loaderIsJkvm(Memory.load32(info + OFFSET_BOOT_LOADER_NAME) & 0xFFFFFFFFL);
        while (p < end) {
            while (p < end && Memory.load8(p) == ' ') {
                p++;
            }
            long word = p;
            while (p < end && Memory.load8(p) != ' ') {
                p++;
            }
            int length = (int) (p - word);
            if (length == 0) {
                continue;
            }
            if (skipFirst) {
                skipFirst = false;
                continue;
            }
            if (!accept(word, length)) {
                return false;
            }
        }
        return true;
    }

    private static boolean loaderIsJkvm(long name) {
        return Memory.load8(name) == 'j' && Memory.load8(name + 1) == 'k' && Memory.load8(name + 2) == 'v'
                && Memory.load8(name + 3) == 'm' && Memory.load8(name + 4) == 0;
    }

    private static boolean accept(long word, int length) {
        int index = 0;
        int start = 0;
        for (int i = 0; i < WORDS.length; i++) {
            if (WORDS[i] != 0) {
                continue;
            }
            if (i - start == length && sameBytes(word, start, length, false)) {
                int meaning = MEANINGS[index];
                if (meaning == SELFTEST) {
                    selftest = true;
                    return true;
                }
                if (testGiven) {
                    return reject(word, length, TWICE);
                }
                testGiven = true;
                test = meaning;
                return true;
            }
            index++;
            start = i + 1;
        }
        index = 0;
        start = 0;
        for (int i = 0; i < NUMERIC.length; i++) {
            if (NUMERIC[i] != 0) {
                continue;
            }
            int keyLength = i - start;
            if (length >= keyLength && sameBytes(word, start, keyLength, true)) {
                long value = number(word + keyLength, length - keyLength);
                if (value < 1 || value > NUMERIC_MAX[index]) {
                    return reject(word, length, BAD_NUMBER);
                }
                if (index == EXPECT_CPUS) {
                    expectCpus = (int) value;
                } else if (index == STORM_MS) {
                    stormMs = value;
                } else if (index == WATCHDOG_MS) {
                    watchdogMs = value;
                } else if (index == SCHED_SPIN) {
                    schedSpin = value;
                }
                return true;
            }
            index++;
            start = i + 1;
        }
        return reject(word, length, UNKNOWN);
    }

    private static boolean sameBytes(long word, int tableStart, int length, boolean numeric) {
        for (int i = 0; i < length; i++) {
            int expected = numeric ? NUMERIC[tableStart + i] : WORDS[tableStart + i];
            if ((Memory.load8(word + i) & 0xFF) != expected) {
                return false;
            }
        }
        return true;
    }

    /** The decimal number of these bytes, or -1 when there is none, a non-digit, or more than 9 digits. */
    private static long number(long digits, int length) {
        if (length < 1 || length > 9) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < length; i++) {
            int c = Memory.load8(digits + i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean reject(long word, int length, int reason) {
        Console.print("cmdline: ");
        if (reason == TWICE) {
            Console.print("test= is given twice");
        } else if (reason == UNKNOWN) {
            Console.print("unknown switch");
        } else {
            Console.print("the number is malformed or out of range");
        }
        Console.print(" in \"");
        for (int i = 0; i < length && i < 80; i++) {
            int c = Memory.load8(word + i) & 0xFF;
            Log.putc(c >= 0x20 && c < 0x7F ? c : '?');
        }
        Console.print("\"; accepted: ");
        printAccepted();
        Console.print("\n");
        return false;
    }

    /**
     * Rejects, with one line, the switches this image does not implement: the self-test suite
     * (built in, or "selftest") ends the run after its tests, so it has no scheduler phase for
     * test=boot or test=sched-NAME; without the suite storm-ms= would do nothing.
     */
    public static boolean fitsImage(boolean suite) {
        if (suite && (test == MainTask.BOOT_ONLY || test == TEST_LOST_WAKEUP || test == TEST_DEADLOCK
                || (test & 0xFF) == MainTask.SCHED_TEST)) {
            Console.print("cmdline: test=boot, test=lost-wakeup, test=deadlock and test=sched-NAME need the default image, and this run is the SMP"
                    + " self-test suite, which ends after its tests (accepted here: test=fault|panic|hang|overflow|"
                    + "write-text|xdata, expect-cpus=N, storm-ms=N, selftest)\n");
            return false;
        }
        if (!suite && stormMs != 0) {
            Console.print("cmdline: storm-ms= sets the self-test suite's IPI storm budget, and this image runs no"
                    + " suite: add selftest or drop storm-ms=\n");
            return false;
        }
        return true;
    }

    /** Everything the parser accepts, in the form of the class comment. */
    public static void printAccepted() {
        Console.print("test=fault|panic|hang|overflow|write-text|xdata|lost-wakeup|deadlock|boot|sched-{fairness,migration,priority,"
                + "timeouts,stress,bench,affinity,join,isolation,kernel-memory}, expect-cpus=N (1-1024),"
                + " storm-ms=N (1-60000), watchdog-ms=N (1-3600000), sched-spin=N (1-300000000), selftest");
    }

    /** The test word (TEST_* here, MainTask.BOOT_ONLY, MainTask.SCHED_TEST | letter << 8). */
    public static int test() {
        return test;
    }

    public static boolean selftest() {
        return selftest;
    }

    /** The CPU count expect-cpus= asks for, or 0. */
    public static int expectCpus() {
        return expectCpus;
    }

    /** The watchdog limit watchdog-ms= asks for, or 0 (the image's). */
    public static long watchdogMs() {
        return watchdogMs;
    }

    /** The spin iterations sched-spin= asks for, or 0 (SchedTests.SPIN_ITERATIONS). */
    public static long schedSpin() {
        return schedSpin;
    }

    /** The storm budget storm-ms= asks for, or 0. */
    public static long stormMs() {
        return stormMs;
    }
}
