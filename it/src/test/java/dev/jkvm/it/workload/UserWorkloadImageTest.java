package dev.jkvm.it.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.images.WorkloadImage;
import dev.jkvm.images.example.MonteCarloPi;
import dev.jkvm.it.BuiltImage;
import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.it.Jkvm;
import dev.jkvm.it.Qemu;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.workload.UserWorkload;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Workloads of one's own (kernel-lib's UserWorkload) booted on jkvm with 2 vCPUs, once per
 * accelerator (GuestAccelerators: the emulated CPU everywhere, KVM where usable): the README's
 * example image as the images module built it (and under QEMU's TCG, an independent x86), an
 * image built here with more tasks than the kernel has stacks, and a workload outside the Java
 * subset refused by the image CLI in one line.
 */
class UserWorkloadImageTest {
    /** Only a hang guard: ring 0 may be emulated (nested paravirtual KVM) and the host cores loaded. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(180);
    private static final int CPUS = 2;
    private static final Pattern WORKLOAD = Pattern.compile(
            "^workload: (.+) = (-?\\d+) \\(host at build time: (-?\\d+)\\), (\\d+) ring-3 tasks; \\d+ ms: (PASS|FAIL)$",
            Pattern.MULTILINE);
    private static final Pattern TABLE_ROW = Pattern.compile("^sched: (\\d+)  (\\d+)  ", Pattern.MULTILINE);

    private record Report(String description, long guest, long host, int tasks) {}

    private static Report bootAndRead(Accelerator accel, Path kernel) throws Exception {
        Jkvm.Result run = Jkvm.run(GuestAccelerators.use(accel), kernel, CPUS, 256L << 20, HANG_LIMIT);
        // A passing run powers off through ACPI S5 (the VMM's PM1a control block): status 0.
        assertEquals(VmOutcome.Kind.POWER_OFF, run.outcome().kind(), () -> run.outcome() + "\n" + run.serial());
        return read(run.outcome().exitStatus(), run.serial());
    }

    private static Report read(int exitStatus, String serial) {
        assertEquals(0, exitStatus, serial);
        assertTrue(serial.contains("\nresult: PASS\n"), serial);
        Matcher w = WORKLOAD.matcher(serial);
        assertTrue(w.find(), () -> "no workload line in:\n" + serial);
        assertEquals("PASS", w.group(5), serial);
        Matcher row = TABLE_ROW.matcher(serial.substring(w.end()));
        int rows = 0;
        while (row.find()) {
            assertEquals(rows++, Integer.parseInt(row.group(1)), "table rows in CPU order");
            assertTrue(Long.parseLong(row.group(2)) > 0, () -> "a CPU ran no task:\n" + serial);
        }
        assertEquals(CPUS, rows, () -> "per-cpu table rows in:\n" + serial);
        return new Report(w.group(1), Long.parseLong(w.group(2)), Long.parseLong(w.group(3)),
                Integer.parseInt(w.group(4)));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void theMonteCarloExampleGetsTheHostsAnswerInTheGuest(Accelerator accel) throws Exception {
        Report report = bootAndRead(accel, BuiltImage.MONTE_CARLO_PI.path());
        assertEquals("sum of MonteCarloPi.task(0..63)", report.description());
        assertEquals(64, report.tasks());
        long host = 0;
        for (long index = 0; index < report.tasks(); index++) {
            host += MonteCarloPi.task(index);
        }
        assertEquals(host, report.guest(), "points inside the circle, guest against this JVM");
        assertEquals(host, report.host(), "the answer the build computed");
        // An oracle independent of both runs: the hit rate estimates pi / 4 (standard error ~0.0005 here).
        double pi = 4.0 * report.guest() / (report.tasks() * MonteCarloPi.POINTS);
        assertEquals(Math.PI, pi, 0.005, "pi estimated by the guest");
    }

    @Test
    void theMonteCarloExampleGivesTheSameSumUnderQemuTcg() throws Exception {
        Qemu.Result run = Qemu.run(BuiltImage.MONTE_CARLO_PI.path(), "tcg", CPUS, "256M", HANG_LIMIT.toSeconds());
        Report report = read(run.status(), run.serial());
        assertEquals(report.host(), report.guest(), "points inside the circle under TCG against the build");
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void moreTasksThanKernelStacksRunInAWindowAndSumToTheClosedForm(Accelerator accel) throws Exception {
        GuestAccelerators.use(accel);
        int tasks = 2 * KernelScheduler.STACKS + 17;
        Path kernel = Path.of("target", "built-images", "many-tasks.elf").toAbsolutePath();
        Files.createDirectories(kernel.getParent());
        SmpKernelImage.builder().workload(UserWorkload.of(ManyTasksWorkload.class, "task", tasks)).build()
                .writeTo(kernel);
        Report report = bootAndRead(accel, kernel);
        long n = tasks;
        long closedForm = 3 * (n - 1) * n / 2 + n;
        assertEquals(tasks, report.tasks());
        assertEquals(closedForm, report.guest(), "sum of 3i+1 for i below " + tasks);
        assertEquals(closedForm, report.host());
    }

    @Test
    void aWorkloadOutsideTheSubsetFailsTheImageBuildWithOneLine() throws Exception {
        Path out = Path.of("target", "built-images", "floating-point.elf").toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.deleteIfExists(out);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), WorkloadImage.class.getName(),
                FloatingPointWorkload.class.getName(), "task", "8", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "image CLI did not finish");
        assertEquals(2, p.exitValue(), stderr);
        List<String> lines = stderr.lines().filter(l -> !l.startsWith("WARNING")).toList();
        assertEquals(1, lines.size(), () -> "one line, no stack trace:\n" + stderr);
        String line = lines.getFirst();
        assertTrue(line.startsWith("workload " + FloatingPointWorkload.class.getName() + ".task cannot run in ring 3: "),
                line);
        assertTrue(line.contains("uses float or double arithmetic"), line);
        assertTrue(!Files.exists(out), "no image written");
    }
}
