package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The command the launcher's error offers on a host without KVM really boots the built-in image:
 * run exactly as printed (QEMU TCG needs no KVM), the SMP kernel passes and powers off through
 * ACPI S5, QEMU's exit status 0, as the launcher's own status for the same run.
 */
class QemuTcgCommandTest {
    @Test
    void theOfferedCommandBootsTheBuiltInImageUnderQemuTcg() throws Exception {
        String text = new QemuTcgCommand(null, DefaultImage.bytes(), 2, 256L << 20, "").text();
        assertTrue(text.endsWith(" -kernel " + QemuTcgCommand.BUILT_IN_COPY), text);
        List<String> command = Arrays.asList(text.split(" "));
        File out = Files.createTempFile("qemu-tcg-command", ".log").toFile();
        try {
            Process qemu = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(out).start();
            // Only a hang guard: the boot takes about 1.5 s under TCG here.
            if (!qemu.waitFor(180, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor();
                throw new AssertionError("QEMU did not finish within 180 s: " + text);
            }
            String console = Files.readString(out.toPath(), StandardCharsets.ISO_8859_1);
            assertEquals(0, qemu.exitValue(), () -> text + "\n" + console);
            assertTrue(console.contains("\nresult: PASS"), console);
            assertTrue(console.contains("power: ACPI S5 soft-off"), console);
        } finally {
            out.delete();
        }
    }
}
