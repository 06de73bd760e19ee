package dev.jkvm.klib.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.jkvm.klib.kernel.CommandLine;
import dev.jkvm.klib.kernel.MainTask;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Fuzz target (Jazzer) for the kernel's strict command-line parser on the host JVM:
 * CommandLine.parse(info) with its results test(), selftest(), expectCpus(), stormMs(), the
 * image check fitsImage(suite) and SelfTestSuite.enabled. The parser follows the 32-bit cmdline
 * and boot-loader-name pointers of the multiboot information (Multiboot 0.6.96 §3.3), so the
 * information, the loader name and the command line are placed in 64 KiB mapped below 4 GiB
 * (mmap MAP_32BIT); the pointers are the harness's, only the command-line bytes are fuzzed. Each
 * input is parsed three times: without a loader name (our VMM's form when it names none), with
 * "jkvm" (nothing skipped) and with "qemu" (the first word is the image path and skipped). Every
 * access is checked against that mapping ({@link CheckedKernel}), and each result, including the
 * one error line, is compared with a plain-Java reading of the same string.
 */
class KernelCommandLineFuzzTest {
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS_32BIT = 0x02 | 0x20 | 0x40; // linux/mman.h: MAP_32BIT is x86-64 only
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MAP_FIXED_NOREPLACE = 0x100000;
    private static final int SIZE = 64 << 10;
    private static final int LOADER_NAME = 0x100;
    private static final int CMDLINE = 0x1000;
    private static final int MAX_CMDLINE = 8192;
    /** The kernel reads at most this many command-line bytes. */
    private static final int SCAN_LIMIT = 4096;
    private static final int FLAG_COMMAND_LINE = 1 << 2;
    private static final int FLAG_BOOT_LOADER_NAME = 1 << 9;

    private static final CheckedKernel KERNEL = new CheckedKernel();
    private static final MemorySegment LOW = mapLow();
    private static final String K = "dev.jkvm.klib.kernel.CommandLine";
    private static final MethodHandle PARSE = KERNEL.method(K, "parse", boolean.class, long.class);
    private static final MethodHandle TEST = KERNEL.method(K, "test", int.class);
    private static final MethodHandle SELFTEST = KERNEL.method(K, "selftest", boolean.class);
    private static final MethodHandle EXPECT_CPUS = KERNEL.method(K, "expectCpus", int.class);
    private static final MethodHandle STORM_MS = KERNEL.method(K, "stormMs", long.class);
    private static final MethodHandle WATCHDOG_MS = KERNEL.method(K, "watchdogMs", long.class);
    private static final MethodHandle SCHED_SPIN = KERNEL.method(K, "schedSpin", long.class);
    private static final MethodHandle FITS = KERNEL.method(K, "fitsImage", boolean.class, boolean.class);
    private static final MethodHandle ENABLED = KERNEL.method("dev.jkvm.klib.kernel.selftest.SelfTestSuite", "enabled",
            boolean.class, boolean.class);
    private static final MethodHandle OUTPUT = KERNEL.method("dev.jkvm.klib.rt.Console", "hostOutput", String.class);
    private static final MethodHandle CLEAR = KERNEL.method("dev.jkvm.klib.rt.Console", "hostClear", void.class);
    private static final MethodHandle PRINT = KERNEL.method("dev.jkvm.klib.rt.Console", "print", void.class, String.class);

    /** The plain reading: each exact word and what test() then says (written out, not taken from the kernel's table). */
    private static final Map<String, Integer> TESTS = Map.ofEntries(
            Map.entry("test=fault", CommandLine.TEST_FAULT), Map.entry("test=panic", CommandLine.TEST_PANIC),
            Map.entry("test=hang", CommandLine.TEST_HANG), Map.entry("test=overflow", CommandLine.TEST_OVERFLOW),
            Map.entry("test=write-text", CommandLine.TEST_WRITE_TEXT), Map.entry("test=xdata", CommandLine.TEST_EXECUTE_DATA),
            Map.entry("test=lost-wakeup", CommandLine.TEST_LOST_WAKEUP),
            Map.entry("test=deadlock", CommandLine.TEST_DEADLOCK),
            Map.entry("test=boot", MainTask.BOOT_ONLY), sched("fairness"), sched("migration"), sched("priority"),
            sched("timeouts"), sched("stress"), sched("bench"), sched("affinity"), sched("join"), sched("isolation"),
            sched("kernel-memory"));

    static {
        defineHostPutc();
    }

    private static Map.Entry<String, Integer> sched(String name) {
        return Map.entry("test=sched-" + name, MainTask.SCHED_TEST | name.charAt(0) << 8);
    }

    /** The kernel's putc (an assembler routine) on the host: appends to the checked Console's output, in order. */
    private static void defineHostPutc() {
        try {
            Class<?> routine = KERNEL.loadClass("dev.jkvm.klib.rt.Asm$HostRoutine");
            Object putc = Proxy.newProxyInstance(KERNEL, new Class<?>[] {routine}, (proxy, method, args) -> {
                if (!method.getName().equals("call")) throw new UnsupportedOperationException(method.getName());
                PRINT.invoke(String.valueOf((char) ((long[]) args[0])[0]));
                return 0L;
            });
            KERNEL.method("dev.jkvm.klib.rt.Asm", "hostDefine", void.class, String.class, routine)
                    .invoke("kernel_putc", putc);
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static MemorySegment mapLow() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MemorySegment m = (MemorySegment) mmap.invoke(MemorySegment.NULL, (long) SIZE, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS_32BIT, -1, 0L);
            // MAP_32BIT searches only the first 2 GiB and failed once in a full suite run; then ask
            // for fixed low addresses that nothing else holds (MAP_FIXED_NOREPLACE, Linux 4.17).
            for (long hint = 1L << 28; (m.address() == -1L || m.address() >= 1L << 32) && hint < 1L << 32; hint += 1L << 28) {
                m = (MemorySegment) mmap.invoke(MemorySegment.ofAddress(hint), (long) SIZE, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0L);
            }
            if (m.address() == -1L || m.address() >= 1L << 32) return null;
            MemorySegment low = m.reinterpret(SIZE);
            Bounds.allow(low);
            return low;
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void commandLine(byte[] input) throws Throwable {
        assumeTrue(LOW != null, "no memory below 4 GiB (mmap MAP_32BIT) on this host");
        byte[] line = input.length > MAX_CMDLINE ? java.util.Arrays.copyOf(input, MAX_CMDLINE) : input;
        String text = new String(line, StandardCharsets.ISO_8859_1);
        int nul = text.indexOf('\0');
        if (nul >= 0) text = text.substring(0, nul);
        if (text.length() > SCAN_LIMIT) text = text.substring(0, SCAN_LIMIT);

        check(line, text, null, false);
        check(line, text, "jkvm", false);
        check(line, text, "qemu", true);
    }

    private static void check(byte[] line, String text, String loader, boolean skipFirst) throws Throwable {
        LOW.fill((byte) 0);
        long info = LOW.address();
        int flags = FLAG_COMMAND_LINE;
        if (loader != null) {
            flags |= FLAG_BOOT_LOADER_NAME;
            LOW.set(ValueLayout.JAVA_INT, 64, (int) (info + LOADER_NAME));
            MemorySegment.copy(loader.getBytes(StandardCharsets.US_ASCII), 0, LOW, ValueLayout.JAVA_BYTE, LOADER_NAME,
                    loader.length());
        }
        LOW.set(ValueLayout.JAVA_INT, 0, flags);
        LOW.set(ValueLayout.JAVA_INT, 16, (int) (info + CMDLINE));
        MemorySegment.copy(line, 0, LOW, ValueLayout.JAVA_BYTE, CMDLINE, line.length);

        CLEAR.invoke();
        boolean ok = (boolean) PARSE.invoke(info);
        Reading expected = Reading.of(text, skipFirst);
        String where = (loader == null ? "no loader" : loader) + ", command line \"" + text + "\"";
        assertEquals(expected.error, ok ? "" : (String) OUTPUT.invoke(), where);
        assertEquals(expected.error.isEmpty(), ok, where);
        if (!ok) return;
        assertEquals(expected.test, (int) TEST.invoke(), "test(), " + where);
        assertEquals(expected.selftest, (boolean) SELFTEST.invoke(), "selftest(), " + where);
        assertEquals(expected.expectCpus, (int) EXPECT_CPUS.invoke(), "expectCpus(), " + where);
        assertEquals(expected.stormMs, (long) STORM_MS.invoke(), "stormMs(), " + where);
        assertEquals(expected.watchdogMs, (long) WATCHDOG_MS.invoke(), "watchdogMs(), " + where);
        assertEquals(expected.schedSpin, (long) SCHED_SPIN.invoke(), "schedSpin(), " + where);
        assertEquals(expected.selftest, (boolean) ENABLED.invoke(expected.selftest), "SelfTestSuite.enabled, " + where);
        boolean schedulerTest = expected.test == MainTask.BOOT_ONLY || expected.test == CommandLine.TEST_LOST_WAKEUP
                || expected.test == CommandLine.TEST_DEADLOCK
                || (expected.test & 0xFF) == MainTask.SCHED_TEST;
        CLEAR.invoke();
        assertEquals(!schedulerTest, (boolean) FITS.invoke(true), "fitsImage(suite), " + where);
        assertEquals(expected.stormMs == 0, (boolean) FITS.invoke(false), "fitsImage(no suite), " + where);
        String lines = (String) OUTPUT.invoke();
        assertEquals((schedulerTest ? 1 : 0) + (expected.stormMs != 0 ? 1 : 0), lines.split("\n", -1).length - 1,
                "one line per refusal, " + where + ": " + lines);
    }

    /** The plain-Java reading of a command line: the values, or the one error line. */
    private record Reading(String error, int test, boolean selftest, int expectCpus, long stormMs, long watchdogMs,
            long schedSpin) {
        static Reading of(String text, boolean skipFirst) {
            int test = 0;
            boolean testGiven = false;
            boolean selftest = false;
            int expectCpus = 0;
            long stormMs = 0;
            long watchdogMs = 0;
            long schedSpin = 0;
            for (String word : text.split(" ")) {
                if (word.isEmpty()) continue;
                if (skipFirst) {
                    skipFirst = false;
                    continue;
                }
                if (word.equals("selftest")) {
                    selftest = true;
                } else if (TESTS.containsKey(word)) {
                    if (testGiven) return error(word, "test= is given twice");
                    testGiven = true;
                    test = TESTS.get(word);
                } else if (word.startsWith("expect-cpus=") || word.startsWith("storm-ms=")
                        || word.startsWith("watchdog-ms=") || word.startsWith("sched-spin=")) {
                    String digits = word.substring(word.indexOf('=') + 1);
                    long max = word.startsWith("expect-cpus=") ? 1024 : word.startsWith("storm-ms=") ? 60000
                            : word.startsWith("watchdog-ms=") ? 3600000 : 300_000_000;
                    long value = digits.matches("[0-9]{1,9}") ? Long.parseLong(digits) : -1;
                    if (value < 1 || value > max) return error(word, "the number is malformed or out of range");
                    if (max == 1024) expectCpus = (int) value;
                    else if (max == 60000) stormMs = value;
                    else if (max == 3600000) watchdogMs = value;
                    else schedSpin = value;
                } else {
                    return error(word, "unknown switch");
                }
            }
            return new Reading("", test, selftest, expectCpus, stormMs, watchdogMs, schedSpin);
        }

        private static Reading error(String word, String reason) {
            StringBuilder shown = new StringBuilder();
            for (int i = 0; i < word.length() && i < 80; i++) {
                char c = word.charAt(i);
                shown.append(c >= 0x20 && c < 0x7F ? c : '?');
            }
            return new Reading("cmdline: " + reason + " in \"" + shown + "\"; accepted: "
                    + "test=fault|panic|hang|overflow|write-text|xdata|lost-wakeup|deadlock|boot|sched-{fairness,migration,priority,"
                    + "timeouts,stress,bench,affinity,join,isolation,kernel-memory}, expect-cpus=N (1-1024),"
                    + " storm-ms=N (1-60000), watchdog-ms=N (1-3600000), sched-spin=N (1-300000000), selftest\n", 0, false,
                    0, 0, 0, 0);
        }
    }
}
