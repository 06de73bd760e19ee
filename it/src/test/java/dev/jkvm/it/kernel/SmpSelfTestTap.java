package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The self-test suite's TAP output (TAP version 12) read from a serial log: the plan line
 * "1..N", then "ok K - ..." / "not ok K - ..." lines, numbered 1..N in order, and "# " comments.
 * Lines before the plan (the kernel's boot messages) are not TAP and are ignored.
 */
final class SmpSelfTestTap {
    private static final Pattern PLAN = Pattern.compile("^1\\.\\.(\\d+)$");
    private static final Pattern RESULT = Pattern.compile("^(not )?ok (\\d+) - (.*)$");
    /** The console test's result: how many lines each of how many CPUs printed at once. */
    private static final Pattern CONSOLE_TEST = Pattern.compile("^console: (\\d+) lines from each of (\\d+) cpus at once");
    /** One whole line of the console test (SelfTestSuite.consoleLines). */
    private static final Pattern CONSOLE_LINE = Pattern.compile("^# console: cpu (\\d+) line (\\d+) abcdefghijklmnopqrstuvwxyz end$");

    record Result(boolean ok, int number, String description) {}

    final String serial;
    final int planned;
    final List<Result> results = new ArrayList<>();
    final List<String> comments = new ArrayList<>();

    SmpSelfTestTap(String serial) {
        this.serial = serial;
        int plan = -1;
        for (String line : serial.split("\n")) {
            line = line.stripTrailing();
            Matcher p = PLAN.matcher(line);
            if (plan < 0) {
                if (p.matches()) {
                    plan = Integer.parseInt(p.group(1));
                }
                continue;
            }
            Matcher r = RESULT.matcher(line);
            if (r.matches()) {
                results.add(new Result(r.group(1) == null, Integer.parseInt(r.group(2)), r.group(3)));
            } else if (line.startsWith("# ")) {
                comments.add(line.substring(2));
            }
        }
        if (plan < 0) {
            fail("no TAP plan line (1..N) in the serial output:\n" + serial);
        }
        planned = plan;
    }

    /** Every planned test reported, in order, and none failed. */
    void assertAllPassed() {
        for (int i = 0; i < results.size(); i++) {
            assertEquals(i + 1, results.get(i).number(), "TAP test numbers out of order:\n" + serial);
        }
        assertEquals(planned, results.size(), "planned " + planned + " tests, reported " + results.size() + ":\n" + serial);
        List<Result> failed = results.stream().filter(r -> !r.ok()).toList();
        assertTrue(failed.isEmpty(), "failed: " + failed + "\n" + serial);
        assertConsoleLinesWhole();
    }

    /**
     * Issue 14, console output line-atomic across CPUs: in the console test every online CPU
     * printed its lines at the same moment, each line in many pieces. Every line of the log that
     * holds a piece of one must be exactly one whole line, and each CPU's every line must be
     * there once. Interleaving inside a line breaks a line's pattern (and usually its neighbour's).
     */
    void assertConsoleLinesWhole() {
        Result test = results.stream().filter(r -> r.description().startsWith("console: ")).findFirst()
                .orElseThrow(() -> new AssertionError("no console test in the TAP output:\n" + serial));
        Matcher m = CONSOLE_TEST.matcher(test.description());
        assertTrue(m.find(), test.description());
        int lines = Integer.parseInt(m.group(1));
        int cpus = Integer.parseInt(m.group(2));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String line : serial.split("\n")) {
            line = line.stripTrailing();
            if (!line.contains("console: cpu")) {
                continue;
            }
            Matcher whole = CONSOLE_LINE.matcher(line);
            assertTrue(whole.matches(), "a console line that is not whole (lines of different CPUs interleaved): '"
                    + line + "'\n" + serial);
            assertTrue(seen.add(whole.group(1) + "/" + whole.group(2)), "console line twice: " + line);
        }
        assertEquals(lines * cpus, seen.size(), lines + " lines from each of " + cpus + " cpus expected:\n" + serial);
    }

    Result test(int number) {
        return results.get(number - 1);
    }

    boolean hasComment(String prefix) {
        return comments.stream().anyMatch(c -> c.startsWith(prefix));
    }
}
