package dev.jkvm.klib.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Fuzz target (Jazzer) for the kernel's command-line parsers on the host JVM: Kernel.testRequested
 * ("test=..."), SelfTestSuite.enabled ("selftest") and its "storm-ms=N" reader. They follow the
 * 32-bit cmdline pointer of the multiboot information (Multiboot 0.6.96 §3.3), so the information
 * and the command line are placed in 64 KiB mapped below 4 GiB (mmap MAP_32BIT); the pointer
 * itself is the harness's, only the command-line bytes are fuzzed. Every access is checked
 * against that mapping ({@link CheckedKernel}), and each result is compared with a plain-Java
 * reading of the same string.
 */
class KernelCommandLineFuzzTest {
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS_32BIT = 0x02 | 0x20 | 0x40; // linux/mman.h: MAP_32BIT is x86-64 only
    private static final int SIZE = 64 << 10;
    private static final int CMDLINE = 0x1000;
    private static final int MAX_CMDLINE = 8192;
    private static final long SCAN_LIMIT = 4096;

    private static final CheckedKernel KERNEL = new CheckedKernel();
    private static final MemorySegment LOW = mapLow();
    private static final MethodHandle ENABLED = KERNEL.method("dev.jkvm.klib.kernel.selftest.SelfTestSuite", "enabled",
            boolean.class, long.class);
    private static final MethodHandle STORM = KERNEL.method("dev.jkvm.klib.kernel.selftest.SelfTestSuite",
            "stormBudgetFromCommandLine", long.class);
    private static final MethodHandle TEST = KERNEL.method("dev.jkvm.klib.kernel.Kernel", "testRequested", int.class, long.class);

    private static MemorySegment mapLow() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MemorySegment m = (MemorySegment) mmap.invoke(MemorySegment.NULL, (long) SIZE, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS_32BIT, -1, 0L);
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
        LOW.fill((byte) 0);
        long info = LOW.address();
        LOW.set(ValueLayout.JAVA_INT, 0, 1 << 2); // flags bit 2: cmdline is valid
        LOW.set(ValueLayout.JAVA_INT, 16, (int) (info + CMDLINE));
        MemorySegment.copy(line, 0, LOW, ValueLayout.JAVA_BYTE, CMDLINE, line.length);

        String text = new String(line, StandardCharsets.ISO_8859_1);
        int nul = text.indexOf('\0');
        if (nul >= 0) text = text.substring(0, nul);

        assertEquals(find(text, "selftest") >= 0, (boolean) ENABLED.invoke(info), "selftest in " + text);
        assertEquals(storm(text), (long) STORM.invoke(), "storm-ms in " + text);
        int test = (int) TEST.invoke(info);
        int at = firstKnownTest(text);
        if (at < 0) {
            assertEquals(0, test, "test= in " + text);
        } else {
            // The same word alone on a command line must give the same answer: the scan found the right one.
            String word = text.substring(at, Math.min(text.length(), at + 12));
            LOW.asSlice(CMDLINE, MAX_CMDLINE).fill((byte) 0);
            MemorySegment.copy(word.getBytes(StandardCharsets.ISO_8859_1), 0, LOW, ValueLayout.JAVA_BYTE, CMDLINE, word.length());
            assertEquals((int) TEST.invoke(info), test, "test= in " + text);
        }
    }

    /** The first index below the kernel's 4096-byte scan limit where {@code word} starts, or -1. */
    private static int find(String text, String word) {
        int at = text.indexOf(word);
        return at >= 0 && at < SCAN_LIMIT ? at : -1;
    }

    private static long storm(String text) {
        int at = find(text, "storm-ms=");
        if (at < 0) return 0;
        long value = 0;
        for (int i = at + 9; i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9'; i++) {
            value = value * 10 + (text.charAt(i) - '0');
        }
        return value;
    }

    /** Where the first "test=" followed by a letter the kernel knows starts (scanned as the kernel scans), or -1. */
    private static int firstKnownTest(String text) {
        for (int at = text.indexOf("test="); at >= 0 && at < SCAN_LIMIT; at = text.indexOf("test=", at + 1)) {
            if (at + 5 < text.length() && "fphowxbs".indexOf(text.charAt(at + 5)) >= 0) return at;
        }
        return -1;
    }
}
