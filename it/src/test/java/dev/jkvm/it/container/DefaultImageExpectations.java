package dev.jkvm.it.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a boot of the default guest image must leave behind. */
final class DefaultImageExpectations {
    private DefaultImageExpectations() {}

    static void assertBooted(VmOutcome out, int cpus) {
        assertEquals(0, out.exitStatus(), "launcher stderr:\n" + out.stderr());
        assertTrue(out.serial().contains("hello"), "serial:\n" + out.serial());
    }
}
