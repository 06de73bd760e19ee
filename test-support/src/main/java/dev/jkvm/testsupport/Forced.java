package dev.jkvm.testsupport;

import java.util.Locale;

/**
 * What the environment says about a facility of the host (JKVM_KVM, JKVM_DOCKER): {@code present}
 * declares that the host has it (every test needing it must run, or the suite fails),
 * {@code absent} makes the suite behave as on a host without it, {@code auto} (the default) probes.
 */
public enum Forced {
    PRESENT, ABSENT, AUTO;

    public static Forced of(String variable) {
        String value = System.getenv(variable);
        if (value == null || value.isBlank()) return AUTO;
        try {
            return valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(variable + "=" + value + " is not one of present, absent, auto");
        }
    }
}
