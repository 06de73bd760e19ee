package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jkvm.vmm.api.ExitStatus;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Fuzz target (Jazzer) for the launcher's option parsing and checks: any command line made of
 * its options and arbitrary values ends in exactly one "error: " line and status 2, or — when a
 * help or version option reached the parser as an option (a value after a flag that takes none,
 * like {@code --quiet -h}, does) — status 0 with nothing on standard error; never a stack trace
 * or another status. The kernel is always a path that does not exist, so no input gets as far
 * as opening /dev/kvm or writing a file.
 * Corpus: src/test/resources/dev/jkvm/vmm/cli/LauncherOptionsFuzzTestInputs/.
 */
class LauncherOptionsFuzzTest {
    private static final String[] OPTIONS = {"--cpus", "--memory", "--cmdline", "--serial", "--timeout",
            "--offline-cpu", "--numa", "--trace-exits", "--report", "--quiet", "--kernel", "--help", "--version", "-h", "-V"};
    private static final String MISSING_KERNEL = "/nonexistent-jkvm-fuzz/kernel.elf";

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void options(FuzzedDataProvider data) {
        List<String> args = new ArrayList<>();
        int count = data.consumeInt(0, 12);
        for (int i = 0; i < count; i++) {
            String token = data.consumeBoolean() ? OPTIONS[data.consumeInt(0, OPTIONS.length - 1)] : data.consumeString(40);
            // Keep every run away from files and the help text: the kernel is given last, once.
            if (token.startsWith("--kernel") || token.startsWith("--report") || token.startsWith("--serial")
                    || token.startsWith("--help") || token.startsWith("--version") || token.startsWith("-h") || token.startsWith("-V")
                    || token.startsWith("-") && !token.startsWith("--")) {
                continue;
            }
            args.add(token);
            if (token.startsWith("--") && data.consumeBoolean()) args.add(data.consumeString(40));
        }
        args.add("--kernel");
        args.add(MISSING_KERNEL);

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Launcher.run(args.toArray(String[]::new), new PrintStream(err, true, StandardCharsets.UTF_8));
        String stderr = err.toString(StandardCharsets.UTF_8);
        if (status == 0) { // the status after printing help or version
            assertTrue(args.stream().anyMatch(LauncherOptionsFuzzTest::asksForHelpOrVersion), "status 0 without -h/-V: " + args);
            assertEquals("", stderr, args + " -> " + stderr);
            return;
        }
        assertEquals(ExitStatus.USAGE, status, args + " -> " + stderr);
        assertTrue(stderr.startsWith("error: ") && stderr.endsWith("\n"), args + " -> " + stderr);
        assertEquals(stderr.length() - 1, stderr.indexOf('\n'), "one line: " + args + " -> " + stderr);
        // A Java exception would show as "error: SomeException: ..." (Launcher.describe); the
        // message may quote the user's own text, "Exception" included, so only the head counts.
        assertFalse(stderr.matches("(?s)error: [A-Za-z.]*(Exception|Error)\\b.*"), args + " -> " + stderr);
    }

    /**
     * Picocli's help and version options, alone or as the head of a short-option cluster
     * ({@code -hV}; {@code -h///} is taken as {@code -h}, as picocli did).
     */
    private static boolean asksForHelpOrVersion(String arg) {
        return arg.equals("--help") || arg.equals("--version") || arg.startsWith("-h") || arg.startsWith("-V");
    }
}
