package dev.jkvm.vmm.cli;

import java.time.Duration;

/** Parses durations such as {@code 30s}, {@code 500ms}, {@code 2m} or a bare number of seconds. */
public final class DurationConverter {
    private DurationConverter() {}

    /** A positive duration; IllegalArgumentException says how to write one. */
    public static Duration parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            Duration d;
            if (t.endsWith("ms")) d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            else if (t.endsWith("s")) d = Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            else if (t.endsWith("m")) d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            else if (t.endsWith("h")) d = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            else d = Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
            if (d.isNegative() || d.isZero()) {
                // A number that parsed, so the form is right: say what is wrong with its value.
                throw new IllegalArgumentException("'" + text + "' is not a positive duration;"
                        + " give at least 1ms, like 30s, 500ms or 2m");
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; write it like 30s, 500ms or 2m");
        }
    }
}
