package dev.jkvm.vmm.kvm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed ABI classes are exactly what native-shims/kvm_layout_gen.c prints against this
 * machine's kernel and glibc headers, so no ioctl number or struct offset can drift.
 */
class KvmAbiRegenerationTest {
    /** Maven runs tests in the module directory; the generator lives at the repository root. */
    static final Path MODULE = Path.of("").toAbsolutePath();
    static final Path GENERATOR = MODULE.resolveSibling("native-shims").resolve("kvm_layout_gen.c");

    @ParameterizedTest
    @ValueSource(strings = {"KvmAbi", "LibcAbi"})
    void committedSourceMatchesTheHeaders(String className, @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        assertTrue(Files.exists(GENERATOR), "generator not found at " + GENERATOR);
        Path exe = tmp.resolve("kvm_layout_gen");
        run(tmp, "gcc", "-O0", "-Wall", "-Werror", "-o", exe.toString(), GENERATOR.toString());
        String generated = run(tmp, exe.toString(), className);
        Path committed = MODULE.resolve("src/main/java/dev/jkvm/vmm/kvm/" + className + ".java");
        assertEquals(Files.readString(committed, StandardCharsets.UTF_8), generated,
                className + ".java is stale; regenerate from the repository root with:\n"
                        + "  gcc -o /tmp/kvm_layout_gen native-shims/kvm_layout_gen.c && /tmp/kvm_layout_gen "
                        + className + " > vmm/src/main/java/dev/jkvm/vmm/kvm/" + className + ".java");
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), command[0] + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + err);
        return out;
    }
}
