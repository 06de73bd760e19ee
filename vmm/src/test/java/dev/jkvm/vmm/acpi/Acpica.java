package dev.jkvm.vmm.acpi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the ACPICA tools (iasl, acpiexec) as independent oracles: the same table parser and AML
 * interpreter Linux uses. A missing tool fails the test with the reason, never skips it.
 */
final class Acpica {
    private Acpica() {}

    record Result(int exitCode, String output) {}

    static Path tool(String name) {
        Path p = Path.of("/usr/bin", name);
        if (!Files.isExecutable(p)) {
            fail(name + " is not installed at " + p + "; install Debian's acpica-tools package (apt-get install acpica-tools)");
        }
        return p;
    }

    /** Runs {@code command} in {@code dir}; stdout and stderr together. */
    static Result run(Path dir, String... command) {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, tool(command[0]).toString());
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", command) + " did not finish");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Path write(Path dir, String fileName, byte[] bytes) {
        try {
            return Files.write(dir.resolve(fileName), bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new AssertionError("missing " + file + ": " + e.getMessage(), e);
        }
    }

    static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AssertionError("missing " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code table} as {@code <name>.dat}, runs {@code iasl -d} on it and returns the .dsl text. */
    static Dsl disassemble(Path dir, String name, byte[] table) {
        write(dir, name + ".dat", table);
        Result r = run(dir, "iasl", "-d", name + ".dat");
        assertTrue(r.exitCode() == 0, "iasl -d " + name + ".dat failed:\n" + r.output());
        return new Dsl(read(dir.resolve(name + ".dsl")));
    }

    /** Compiles {@code <name>.dsl} (or .asl) with iasl into {@code <outName>.aml}; asserts 0 errors. */
    static byte[] compile(Path dir, String sourceFile, String outName) {
        Result r = run(dir, "iasl", "-p", outName, sourceFile);
        assertTrue(r.exitCode() == 0 && r.output().contains("Compilation successful. 0 Errors"),
                "iasl " + sourceFile + " did not compile cleanly:\n" + r.output());
        return readBytes(dir.resolve(outName + ".aml"));
    }
}
