package dev.jkvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Boots the hello image that the build wrote to target/classes under QEMU TCG (an independent
 * x86 implementation and multiboot loader) and checks the serial output and exit status.
 */
class HelloQemuTest {
    private static final String QEMU = "qemu-system-x86_64";

    private static Path builtImage() throws Exception {
        URL url = HelloQemuTest.class.getResource("hello.elf");
        assertNotNull(url, "hello.elf is missing from target/classes/dev/jkvm/images: the build's exec-maven-plugin"
                + " step (process-classes) did not run; build with mvn -pl images -am test");
        return Path.of(url.toURI());
    }

    private static Process startQemu(List<String> command) throws Exception {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            fail(QEMU + " cannot be started (" + e.getMessage() + "): install the qemu-system-x86 package");
            throw e;
        }
    }

    @Test
    void buildWroteTheSameImageTheBuilderProduces() throws Exception {
        assertArrayEquals(Hello.build().bytes(), Files.readAllBytes(builtImage()));
    }

    @Test
    void printsHelloOnCom1AndExitsThroughIsaDebugExit() throws Exception {
        Path image = builtImage();
        for (String machine : List.of("microvm", "q35")) {
            Process qemu = startQemu(List.of(QEMU, "-M", machine, "-accel", "tcg", "-kernel", image.toString(),
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "stdio", "-display", "none",
                    "-nodefaults", "-no-reboot"));
            // A hang guard, not a timing assertion: a broken image spins forever instead of exiting.
            if (!qemu.waitFor(120, TimeUnit.SECONDS)) {
                qemu.destroyForcibly();
                fail("QEMU (" + machine + ") did not exit: the image never reached isa-debug-exit");
            }
            String output = new String(qemu.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(output.contains(Hello.MESSAGE.trim()), machine + " serial output: " + output);
            // isa-debug-exit turns the value 0 written by the kernel into exit status (0 << 1) | 1.
            assertEquals(1, qemu.exitValue(), machine + " exit status; output: " + output);
        }
    }
}
