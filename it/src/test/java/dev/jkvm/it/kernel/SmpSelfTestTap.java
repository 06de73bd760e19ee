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
    }

    Result test(int number) {
        return results.get(number - 1);
    }

    boolean hasComment(String prefix) {
        return comments.stream().anyMatch(c -> c.startsWith(prefix));
    }
}
