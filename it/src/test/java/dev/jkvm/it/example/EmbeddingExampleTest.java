package dev.jkvm.it.example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.images.example.HelloKernel;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's embedding example, as written, boots the README's hello example on jkvm: on KVM where
 * /dev/kvm is usable, on the emulated CPU elsewhere (the example asks for Accelerator.AUTO).
 */
class EmbeddingExampleTest {
    @Test
    void bootsTheHelloExample(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("hello.elf");
        HelloKernel.main(new String[] {image.toString()});
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            EmbeddingExample.main(new String[] {image.toString()});
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("Hello from jkvm\n"), printed);
        assertTrue(printed.contains("GUEST_EXIT"), printed);
        assertTrue(printed.contains(" on kvm, port exits: ") || printed.contains(" on emulated, port exits: "), printed);
    }
}
