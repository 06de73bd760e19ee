package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.api.ExitStatus;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad input gets exactly one line naming the cause and the fix, status 2, and no stack trace. */
class LauncherErrorsTest {
    @TempDir
    Path dir;

    private record Run(int status, String stderr) {}

    private static Run launch(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Launcher.run(args, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneLineError(Run run, String... mustContain) {
        assertEquals(ExitStatus.USAGE, run.status(), run.stderr());
        String[] lines = run.stderr().strip().split("\n");
        assertEquals(1, lines.length, "expected one line, got:\n" + run.stderr());
        assertTrue(lines[0].startsWith("error: "), lines[0]);
        assertFalse(run.stderr().contains("\tat "), "stack trace printed:\n" + run.stderr());
        for (String s : mustContain) assertTrue(lines[0].contains(s), "'" + s + "' missing in: " + lines[0]);
    }

    @Test
    void missingKernelFile() {
        assertOneLineError(launch("--kernel", dir.resolve("nope.elf").toString()), "nope.elf", "does not exist", "--kernel");
    }

    @Test
    void kernelIsADirectory() {
        assertOneLineError(launch("--kernel", dir.toString()), "is a directory");
    }

    @Test
    void kernelThatIsNotMultiboot() throws Exception {
        Path junk = dir.resolve("junk.bin");
        Files.write(junk, new byte[4096]);
        assertOneLineError(launch("--kernel", junk.toString()), "junk.bin");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--cpus|0|--cpus 0",
            "--cpus|5000|--cpus 5000",
            "--cpus|two|--cpus",
            "--memory|1M|too small",
            "--memory|64T|more than this host",
            "--memory|lots|not a size",
            "--timeout|soon|not a duration",
            "--timeout|0s|not a positive duration",
            "--timeout|0.0001s|not a positive duration",
            "--serial|tcp:1|not a serial target",
            "--accel|tcg|give kvm, emulated or auto",
    })
    void optionOutOfRange(String option, String value, String expected) {
        assertOneLineError(launch(option, value, "--kernel", "/dev/null"), expected);
    }

    @Test
    void unknownOption() {
        assertOneLineError(launch("--frobnicate"), "--frobnicate", "--help");
    }

    @Test
    void serialFileInMissingDirectory() throws Exception {
        Path kernel = dir.resolve("k.bin");
        Files.write(kernel, new byte[16]);
        Run run = launch("--kernel", kernel.toString(), "--serial", "file:" + dir.resolve("no/such/dir/log"));
        assertEquals(ExitStatus.USAGE, run.status(), run.stderr());
        assertEquals(1, run.stderr().strip().split("\n").length, run.stderr());
    }

    @Test
    void absentKvmDeviceNamesTheFixAndTheQemuCommandThatRunsTheKernelWithoutKvm() {
        Path kernel = dir.resolve("k.elf");
        UserError e = assertThrows(UserError.class, () -> HostChecks.kvmAccessible(dir.resolve("kvm"),
                new QemuTcgCommand(kernel, new byte[0], 3, 512L << 20, "test=boot")));
        assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("--device /dev/kvm"), e.getMessage());
        assertTrue(e.getMessage().endsWith(": qemu-system-x86_64 -accel tcg -M microvm,acpi=on -smp 3 -m 512M -nographic"
                + " -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel " + kernel + " -append 'test=boot'"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void sizesAndDurationsParse() {
        assertEquals(256L << 20, ByteSizeConverter.parse("256M"));
        assertEquals(2L << 30, ByteSizeConverter.parse("2G"));
        assertEquals(2L << 30, ByteSizeConverter.parse("2GiB"));
        assertEquals(65536, ByteSizeConverter.parse("65536"));
        assertEquals(512L << 10, ByteSizeConverter.parse("512k"));
        assertEquals(java.time.Duration.ofSeconds(30), DurationConverter.parse("30s"));
        assertEquals(java.time.Duration.ofMillis(500), DurationConverter.parse("500ms"));
        assertEquals(java.time.Duration.ofMinutes(2), DurationConverter.parse("2m"));
        assertEquals(java.time.Duration.ofMillis(1500), DurationConverter.parse("1.5"));
    }
}
