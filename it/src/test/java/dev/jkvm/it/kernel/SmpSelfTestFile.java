package dev.jkvm.it.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The self-test image the images module builds (dev/jkvm/images/smp-selftest.elf on the class path). */
final class SmpSelfTestFile {
    private static final String RESOURCE = "/dev/jkvm/images/smp-selftest.elf";
    private static byte[] bytes;
    private static Path file;

    private SmpSelfTestFile() {}

    static synchronized byte[] bytes() throws IOException {
        if (bytes == null) {
            try (InputStream in = SmpSelfTestFile.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IOException(RESOURCE + " is not on the class path: build the images module first"
                            + " (mvn -pl it -am test builds it)");
                }
                bytes = in.readAllBytes();
            }
        }
        return bytes;
    }

    /** The image as a file, for QEMU's -kernel. */
    static synchronized Path path() throws IOException {
        if (file == null) {
            Path dir = Path.of("target").toAbsolutePath();
            Files.createDirectories(dir);
            file = dir.resolve("smp-selftest.elf");
            Files.write(file, bytes());
        }
        return file;
    }
}
