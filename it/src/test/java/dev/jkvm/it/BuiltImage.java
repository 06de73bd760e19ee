package dev.jkvm.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** A kernel image the images module builds onto the class path (dev/jkvm/images/NAME.elf). */
public final class BuiltImage {
    public static final BuiltImage HELLO = new BuiltImage("hello");
    public static final BuiltImage SMP_KERNEL = new BuiltImage("smp");
    public static final BuiltImage SMP_SELFTEST = new BuiltImage("smp-selftest");
    public static final BuiltImage MONTE_CARLO_PI = new BuiltImage("montecarlo-pi");

    private final String name;
    private byte[] bytes;
    private Path file;

    private BuiltImage(String name) {
        this.name = name;
    }

    public synchronized byte[] bytes() throws IOException {
        if (bytes == null) {
            String resource = "/dev/jkvm/images/" + name + ".elf";
            try (InputStream in = BuiltImage.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException(resource + " is not on the class path: build the images module first"
                            + " (mvn -pl it -am test builds it)");
                }
                bytes = in.readAllBytes();
            }
        }
        return bytes;
    }

    /** The image as a file under target/, for QEMU's -kernel. */
    public synchronized Path path() throws IOException {
        if (file == null) {
            Path dir = Path.of("target", "built-images").toAbsolutePath();
            Files.createDirectories(dir);
            file = dir.resolve(name + ".elf");
            Files.write(file, bytes());
        }
        return file;
    }
}
