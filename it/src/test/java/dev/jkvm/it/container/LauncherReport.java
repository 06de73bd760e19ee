package dev.jkvm.it.container;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fields of the launcher's --report JSON that the container tests check. */
record LauncherReport(String outcome, long exitStatus, int cpus) {
    private static final Pattern OUTCOME = Pattern.compile("\"outcome\": \"([A-Z_]+)\"");
    private static final Pattern EXIT_STATUS = Pattern.compile("\"exitStatus\": (\\d+)");
    private static final Pattern CPUS = Pattern.compile("\"cpus\": (\\d+)");

    static LauncherReport of(ContainerOutcome out) {
        String json = out.report().orElseThrow(() -> new AssertionError("the launcher wrote no --report file"));
        return new LauncherReport(field(OUTCOME, json), Long.parseLong(field(EXIT_STATUS, json)),
                Integer.parseInt(field(CPUS, json)));
    }

    private static String field(Pattern p, String json) {
        Matcher m = p.matcher(json);
        if (!m.find()) throw new AssertionError("the report has no " + p.pattern() + ":\n" + json);
        return m.group(1);
    }
}
