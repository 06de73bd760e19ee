package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Captures the tables afresh from the installed QEMU with the same script the committed fixtures
 * came from, and checks that discovery reads the same topology from both: the fixtures still
 * describe what QEMU builds, and the parser does not depend on byte-for-byte identical tables.
 * Soft-off's choices (register, \_S5 values) must match too.
 */
class QemuRecaptureTest {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final long RAM = 32L << 20;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"q35", "pc"})
    void freshCaptureHasTheCommittedTopology(String machine, @TempDir Path out) throws Exception {
        assumeTrue(Files.isExecutable(QEMU), "qemu-system-x86_64 (Debian package qemu-system-x86) is not installed");
        Path script = Path.of(getClass().getResource("/acpi/capture-qemu.sh").toURI());
        Process p = new ProcessBuilder("bash", script.toString(), machine, "4", out.toString())
                .redirectErrorStream(true).redirectOutput(out.resolve("capture.log").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("capture-qemu.sh did not finish");
        }
        assertEquals(0, p.exitValue(), () -> readQuietly(out.resolve("capture.log")));

        DiscoveredTopology committed;
        List<Long> committedSoftOff;
        try (PhysicalImage image = PhysicalImage.fixture("qemu-" + machine + "-smp4", RAM)) {
            committed = DiscoveredTopology.discover(image, 0);
            committedSoftOff = softOff();
        }
        try (PhysicalImage image = PhysicalImage.load(out, RAM)) {
            DiscoveredTopology fresh = DiscoveredTopology.discover(image, 0);
            assertEquals(committed.withoutLog(), fresh.withoutLog(), fresh.log());
            assertEquals(committedSoftOff, softOff(), "soft-off path, PM1a_CNT register and \\_S5 values");
        }
    }

    /** What soft-off takes from the tables discovery just selected. */
    private static List<Long> softOff() {
        return List.of((long) SoftOff.prepare(), (long) SoftOff.reason(), (long) Fadt.pm1aControlSpace(),
                Fadt.pm1aControlAddress(), (long) SleepPackage.typeA(), (long) SleepPackage.typeB());
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
