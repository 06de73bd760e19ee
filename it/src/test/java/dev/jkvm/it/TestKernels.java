package dev.jkvm.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The multiboot test kernels under {@code src/test/resources/kernels}, built with the GNU
 * toolchain (an oracle independent of kernel-lib) into {@code target/test-kernels} on first use.
 */
public final class TestKernels {
    private static final Path OUT = Path.of("target", "test-kernels").toAbsolutePath();
    private static final List<String> SOURCES = List.of("build.sh", "kernel.ld", "multiboot.inc", "serial.inc",
            "hello32.S", "longmode.S", "smp.S", "triple.S", "spin.S", "longmode.inc", "count.S");

    private TestKernels() {}

    public static synchronized Path build(String name) throws IOException, InterruptedException {
        Path elf = OUT.resolve(name + ".elf");
        if (Files.exists(elf)) return elf;
        Path src = OUT.resolve("src");
        Files.createDirectories(src);
        for (String s : SOURCES) {
            try (InputStream in = TestKernels.class.getResourceAsStream("/kernels/" + s)) {
                if (in == null) throw new IOException("test resource kernels/" + s + " is missing");
                Files.copy(in, src.resolve(s), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Process p = new ProcessBuilder("bash", src.resolve("build.sh").toString(), name, OUT.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("building test kernel " + name + " failed (needs gcc and binutils):\n" + log);
        }
        return elf;
    }
}
