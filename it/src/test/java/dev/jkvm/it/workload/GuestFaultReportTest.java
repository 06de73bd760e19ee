package dev.jkvm.it.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.it.Jkvm;
import dev.jkvm.it.Qemu;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.workload.UserWorkload;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults in a user's own workload (GuestOnlyFaults) reported the way a Java developer reads them:
 * the exception, the task index and CPU, one "\tat Class.method(File.java:LINE)" per frame; the
 * run's summary names how many tasks failed and the first, compares the sum over the tasks that
 * finished, and fails with status 35. Booted under QEMU TCG (2 CPUs) and on jkvm, once per
 * accelerator (GuestAccelerators: the emulated CPU everywhere, KVM where /dev/kvm is usable). The
 * lines are the ones marked in GuestOnlyFaults' source.
 */
class GuestFaultReportTest {
    private static final Duration HANG_LIMIT = Duration.ofSeconds(240);
    private static final String CLASS = GuestOnlyFaults.class.getName();
    private static final Path SOURCE = Path.of("src/test/java/dev/jkvm/it/workload/GuestOnlyFaults.java");

    private static int line(String marker) throws IOException {
        List<String> lines = Files.readAllLines(SOURCE);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// " + marker)) {
                return i + 1;
            }
        }
        throw new IllegalStateException("no line marked " + marker + " in " + SOURCE);
    }

    private static String frame(String method, String marker) throws IOException {
        return "\tat " + CLASS + "." + method + "(GuestOnlyFaults.java:" + line(marker) + ")";
    }

    private static Path image(String method, int tasks, long watchdogMs) throws IOException {
        Path kernel = Path.of("target", "built-images", "fault-" + method + "-" + watchdogMs + "ms.elf").toAbsolutePath();
        Files.createDirectories(kernel.getParent());
        SmpKernelImage.builder().workload(UserWorkload.of(GuestOnlyFaults.class, method, tasks)).watchdogMs(watchdogMs)
                .build().writeTo(kernel);
        return kernel;
    }

    private static String qemu(Path kernel) throws Exception {
        Qemu.Result run = Qemu.run(kernel, "tcg", 2, "256M", HANG_LIMIT.toSeconds());
        assertEquals(35, run.status(), run.serial());
        return run.serial();
    }

    private static String jkvm(Accelerator accel, Path kernel) throws Exception {
        Jkvm.Result run = Jkvm.run(GuestAccelerators.use(accel), kernel, 2, 256L << 20, HANG_LIMIT);
        assertEquals(35, run.outcome().exitStatus(), () -> run.outcome() + "\n" + run.serial());
        return run.serial();
    }

    /** The lines after "Exception in task INDEX on cpu N: " up to the next line not starting with a tab. */
    private static List<String> trace(String serial, long index) {
        Matcher m = Pattern.compile("^Exception in task " + index + " on cpu \\d+: (.*)$", Pattern.MULTILINE).matcher(serial);
        assertTrue(m.find(), () -> "no report for task " + index + " in:\n" + serial);
        List<String> lines = new java.util.ArrayList<>(List.of(m.group(1)));
        for (String l : serial.substring(m.end() + 1).lines().toList()) {
            if (!l.startsWith("\t")) {
                break;
            }
            lines.add(l);
        }
        return lines;
    }

    private static void assertLine(String serial, String expected) {
        assertTrue(serial.lines().anyMatch(expected::equals), () -> "no line \"" + expected + "\" in:\n" + serial);
    }

    private static void checkDivide(String serial) throws IOException {
        String at = frame("divide", "FAULT: divide");
        for (long index = 5; index < 8; index++) {
            assertEquals(List.of("java.lang.ArithmeticException: / by zero", at), trace(serial, index), serial);
        }
        assertLine(serial, "workload: 3 of 64 tasks failed (first: index 5, ArithmeticException: / by zero at " + CLASS
                + ".divide(GuestOnlyFaults.java:" + line("FAULT: divide") + "))");
        long finished = 0;
        for (long index = 0; index < 64; index++) {
            finished += index >= 5 && index < 8 ? 0 : 1000 + index;
        }
        assertTrue(Pattern.compile("^workload: sum of GuestOnlyFaults.divide\\(0\\.\\.63\\) = " + finished
                + " over the 61 finished tasks \\(host at build time: " + finished + "\\), 64 ring-3 tasks; \\d+ ms: FAIL$",
                Pattern.MULTILINE).matcher(serial).find(), serial);
        assertLine(serial, "result: FAIL");
    }

    private static void checkNullRead(String serial) throws IOException {
        assertEquals(List.of("page fault: read at address 0x8 (page not present)", frame("nullRead", "FAULT: nullRead")),
                trace(serial, 3), serial);
        assertLine(serial, "workload: 1 of 8 tasks failed (first: index 3, page fault: read at address 0x8 (page not present)"
                + " at " + CLASS + ".nullRead(GuestOnlyFaults.java:" + line("FAULT: nullRead") + "))");
    }

    private static void checkSpin(String serial) throws IOException {
        checkSpin(serial, 3000);
    }

    private static void checkSpin(String serial, long limitMs) throws IOException {
        List<String> trace = trace(serial, 2);
        assertEquals("watchdog: still running after " + limitMs + " ms", trace.getFirst(), serial);
        // Where the loop was when the watchdog struck: one of the loop's lines.
        assertEquals(2, trace.size(), serial);
        assertTrue(trace.get(1).startsWith("\tat " + CLASS + ".spin(GuestOnlyFaults.java:"), serial);
        assertTrue(serial.contains("workload: 1 of 4 tasks failed (first: index 2, watchdog: still running after " + limitMs
                + " ms at "
                + CLASS + ".spin(GuestOnlyFaults.java:"), serial);
    }

    private static void checkDeep(String serial) throws IOException {
        assertEquals(List.of("java.lang.ArithmeticException: / by zero", frame("leaf", "FAULT: leaf"),
                frame("middle", "CALL: middle"), frame("deep", "CALL: deep")), trace(serial, 1), serial);
        assertLine(serial, "workload: 1 of 4 tasks failed (first: index 1, ArithmeticException: / by zero at " + CLASS
                + ".leaf(GuestOnlyFaults.java:" + line("FAULT: leaf") + "))");
    }

    @Test
    void divideByZeroUnderQemuTcg() throws Exception {
        checkDivide(qemu(image("divide", 64, 60_000)));
    }

    @Test
    void nullReadUnderQemuTcg() throws Exception {
        checkNullRead(qemu(image("nullRead", 8, 60_000)));
    }

    @Test
    void infiniteLoopUnderQemuTcg() throws Exception {
        checkSpin(qemu(image("spin", 4, 3_000)));
    }

    @Test
    void theCommandLineSetsTheWatchdogUnderQemuTcg() throws Exception {
        // The image's limit is the default (60 s); watchdog-ms=2000 on the command line wins.
        Qemu.Result run = Qemu.run(image("spin", 4, dev.jkvm.klib.kernel.build.SmpKernelBuilder.DEFAULT_WATCHDOG_MS),
                "tcg", 2, "256M", HANG_LIMIT.toSeconds(), "watchdog-ms=2000");
        assertEquals(35, run.status(), run.serial());
        checkSpin(run.serial(), 2000);
    }

    @Test
    void arrayIndexOutOfBoundsUnderQemuTcg() throws Exception {
        String serial = qemu(image("outOfBounds", 4, 60_000));
        assertEquals(List.of("java.lang.ArrayIndexOutOfBoundsException: Index 4 out of bounds for length 3",
                frame("outOfBounds", "FAULT: outOfBounds")), trace(serial, 1), serial);
        assertLine(serial, "workload: 1 of 4 tasks failed (first: index 1, ArrayIndexOutOfBoundsException: Index 4 out of"
                + " bounds for length 3 at " + CLASS + ".outOfBounds(GuestOnlyFaults.java:" + line("FAULT: outOfBounds") + "))");
    }

    @Test
    void faultTwoFramesDeepUnderQemuTcg() throws Exception {
        checkDeep(qemu(image("deep", 4, 60_000)));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void divideByZeroOnJkvm(Accelerator accel) throws Exception {
        checkDivide(jkvm(accel, image("divide", 64, 60_000)));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void nullReadOnJkvm(Accelerator accel) throws Exception {
        checkNullRead(jkvm(accel, image("nullRead", 8, 60_000)));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void infiniteLoopOnJkvm(Accelerator accel) throws Exception {
        checkSpin(jkvm(accel, image("spin", 4, 3_000)));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void faultTwoFramesDeepOnJkvm(Accelerator accel) throws Exception {
        checkDeep(jkvm(accel, image("deep", 4, 60_000)));
    }
}
