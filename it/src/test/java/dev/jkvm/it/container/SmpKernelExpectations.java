package dev.jkvm.it.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a run of the smp test kernel (it/src/test/resources/kernels/smp.S, built by gcc) must
 * leave: it wakes every AP with INIT-SIPI-SIPI, prints "cpus online: 0x%08x" and writes that
 * count to isa-debug-exit, which the launcher turns into the status (count << 1) | 1.
 */
final class SmpKernelExpectations {
    private static final Pattern ONLINE = Pattern.compile("^cpus online: 0x([0-9a-f]{8})$", Pattern.MULTILINE);

    private SmpKernelExpectations() {}

    static void assertEveryCpuCameUp(ContainerOutcome out, int cpus) {
        int expectedStatus = (cpus << 1) | 1;
        assertEquals(expectedStatus, out.exitStatus(), () -> "launcher stderr:\n" + out.stderr() + "\nserial:\n" + out.serial());
        Matcher online = ONLINE.matcher(out.serial());
        assertTrue(online.find(), () -> "no 'cpus online' line on the serial console:\n" + out.serial());
        assertEquals(cpus, Integer.parseInt(online.group(1), 16), "CPUs the guest counted");
    }
}
