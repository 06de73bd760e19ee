package dev.jkvm.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.images.example.HelloKernel;
import dev.jkvm.images.example.PiImage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java block of the README is an example file, byte for byte (this module's, or the it
 * module's for the VMM's API, which it/EmbeddingExampleTest runs), so it compiles with its module; the examples then run as the README says: HelloKernel's image prints its line
 * under QEMU TCG and ends with status 1, PiImage writes a bootable ELF.
 */
class ReadmeSnippetsTest {
    private static final Path README = Path.of("../README.md");
    /** Where the examples live: this module's, and the it module's for the VMM's API (which images does not use). */
    private static final List<Path> EXAMPLES = List.of(Path.of("src/main/java/dev/jkvm/images/example"),
            Path.of("../it/src/test/java/dev/jkvm/it/example"));

    @Test
    void everyJavaBlockIsAnExampleFile() throws Exception {
        String readme = Files.readString(README);
        Matcher block = Pattern.compile("```java\n(.*?)```\n", Pattern.DOTALL).matcher(readme);
        List<String> files = new ArrayList<>();
        for (Path examples : EXAMPLES) {
            try (Stream<Path> list = Files.list(examples)) {
                for (Path p : list.sorted().toList()) {
                    files.add(Files.readString(p));
                }
            }
        }
        int blocks = 0;
        while (block.find()) {
            blocks++;
            String code = block.group(1);
            assertTrue(files.contains(code), () -> "README block is not one of the files in " + EXAMPLES + ", byte for byte:\n"
                    + code);
        }
        assertTrue(blocks >= 3, "Java blocks in the README: " + blocks);
    }

    @Test
    void theHelloExampleBootsUnderQemuTcg(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("hello.elf");
        HelloKernel.main(new String[] {image.toString()});
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-kernel",
                image.toString(), "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "stdio", "-display",
                "none", "-nodefaults", "-no-reboot").redirectErrorStream(true).start();
        // A hang guard, not a timing assertion.
        if (!qemu.waitFor(120, TimeUnit.SECONDS)) {
            qemu.destroyForcibly().waitFor();
            throw new AssertionError("the hello example never reached isa-debug-exit");
        }
        assertEquals("Hello from jkvm\n", new String(qemu.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(1, qemu.exitValue(), "isa-debug-exit status (0 << 1) | 1");
    }

    @Test
    void thePiExampleWritesAMultibootElf(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("pi.elf");
        PiImage.main(new String[] {image.toString()});
        byte[] bytes = Files.readAllBytes(image);
        assertTrue(bytes.length > 4096, "image size " + bytes.length);
        assertEquals(0x7F, bytes[0]);
        assertEquals("ELF", new String(bytes, 1, 3, StandardCharsets.US_ASCII));
    }
}
