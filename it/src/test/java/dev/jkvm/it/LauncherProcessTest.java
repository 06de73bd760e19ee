package dev.jkvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.vcpu.Accelerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The launcher jar as a user runs it: separate process, real exit status, stdout and stderr. The
 * boots run once per accelerator (GuestAccelerators): on KVM with the default --accel auto, which
 * must choose KVM where it is usable, and on the emulated CPU chosen by name.
 */
class LauncherProcessTest {
    private static final Path JAR = Path.of("..", "vmm", "target", "vmm-launcher.jar").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private record Run(int status, String stdout, String stderr) {}

    /** The options that select {@code accel}: none for KVM (auto picks it), --accel emulated otherwise. */
    private static List<String> accelOptions(Accelerator accel) {
        return GuestAccelerators.use(accel) == Accelerator.KVM ? List.of() : List.of("--accel", accel.label());
    }

    private Run launch(Accelerator accel, String... args) throws Exception {
        List<String> all = new ArrayList<>(accelOptions(accel));
        all.addAll(List.of(args));
        return launch(all.toArray(String[]::new));
    }

    private Run launch(String... args) throws Exception {
        assertTrue(Files.exists(JAR), "the launcher jar is built in vmm's package phase: " + JAR);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("launcher did not finish: " + cmd);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void bootsAKernelAndReportsLikeQemu(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("smp");
        Path report = dir.resolve("run.json");
        Run run = launch(accel, "--kernel", kernel.toString(), "--cpus", "4", "--memory", "64M", "--report", report.toString());
        assertEquals(9, run.status(), run.stderr());
        assertEquals("fw_cfg cpus: 0x00000004\ncpus online: 0x00000004\n", run.stdout());
        assertTrue(run.stderr().contains("time to first serial byte"), run.stderr());
        assertTrue(run.stderr().contains("exits by reason per vCPU"), run.stderr());
        assertTrue(run.stderr().matches("(?s).*\\n  accelerator +" + accel.label() + "\\n.*"), run.stderr());
        // Neither auto with KVM usable nor an explicit --accel emulated explains a fallback.
        assertTrue(!run.stderr().contains("KVM is not usable"), "no fallback line expected:\n" + run.stderr());
        String json = Files.readString(report);
        assertTrue(json.contains("\"exitStatus\": 9"), json);
        assertTrue(json.contains("\"outcome\": \"GUEST_EXIT\""), json);
        assertTrue(json.contains("\"cpus\": 4"), json);
        assertTrue(json.contains("\"accelerator\": \"" + accel.label() + "\""), json);
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void serialToFile(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("hello32");
        Path log = dir.resolve("serial.log");
        Run run = launch(accel, "--kernel", kernel.toString(), "--serial", "file:" + log, "--quiet");
        assertEquals(67, run.status(), run.stderr());
        assertEquals("", run.stdout());
        assertTrue(Files.readString(log).startsWith("hello from a 32-bit multiboot kernel\n"));
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void timeoutStatusAndOneLineCause(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("spin");
        Run run = launch(accel, "--kernel", kernel.toString(), "--timeout", "1s", "--quiet");
        assertEquals(124, run.status(), run.stderr());
        assertEquals("error: wall-clock limit of 1s reached", run.stderr().strip());
    }

    @Test
    void badInputIsOneLineWithStatusTwo() throws Exception {
        Run run = launch("--cpus", "0");
        assertEquals(2, run.status());
        assertEquals(1, run.stderr().strip().split("\n").length, run.stderr());
        assertTrue(run.stderr().startsWith("error: --cpus 0"), run.stderr());
    }
}
