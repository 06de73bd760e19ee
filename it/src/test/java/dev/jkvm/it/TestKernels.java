package dev.jkvm.it;

import dev.jkvm.testsupport.GnuToolchain;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The multiboot test kernels under {@code src/test/resources/kernels}, built with the shared
 * {@link GnuToolchain} (an oracle independent of kernel-lib) into {@code target/test-kernels} on
 * first use.
 */
public final class TestKernels {
    private static final Path OUT = Path.of("target", "test-kernels").toAbsolutePath();
    private static final List<String> SOURCES = List.of("multiboot.inc", "serial.inc",
            "hello32.S", "longmode.S", "smp.S", "triple.S", "spin.S", "longmode.inc", "count.S");

    private TestKernels() {}

    public static synchronized Path build(String name) throws IOException {
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
        try {
            return new GnuToolchain(OUT).multibootKernel(src.resolve(name + ".S"), name);
        } catch (IllegalStateException e) {
            throw new IOException("building test kernel " + name + " failed (needs gcc and binutils): " + e.getMessage(), e);
        }
    }
}
