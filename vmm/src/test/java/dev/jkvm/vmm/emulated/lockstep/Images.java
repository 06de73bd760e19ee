package dev.jkvm.vmm.emulated.lockstep;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The built images (images module, on the test class path as {@code /dev/jkvm/images/NAME.elf}) as files QEMU can load. */
final class Images {
    private Images() {}

    static Path file(String name) throws IOException {
        try (InputStream in = Images.class.getResourceAsStream("/dev/jkvm/images/" + name)) {
            if (in == null) {
                throw new IllegalStateException("image " + name + " is not on the test class path: build it with "
                        + "'mvn -pl images -am install -DskipTests'");
            }
            Path f = Files.createTempFile("lockstep-" + name.replace(".elf", ""), ".elf");
            Files.write(f, in.readAllBytes());
            f.toFile().deleteOnExit();
            return f;
        }
    }

    /** A symbol's address from the ELF symbol table ({@code nm}), or {@code text} itself when it is a hex address. */
    static long symbol(Path elf, String text) throws IOException {
        if (text.startsWith("0x")) return Long.parseLong(text.substring(2), 16);
        Process p = new ProcessBuilder("nm", elf.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[2].equals(text)) return Long.parseLong(f[0], 16);
        }
        throw new IllegalArgumentException("no symbol " + text + " in " + elf + ": give a name nm prints or a hex address");
    }

    /** The ELF entry point (e_entry of an ELF32 multiboot image, little endian at offset 24). */
    static long entry(Path elf) throws IOException {
        byte[] b = Files.readAllBytes(elf);
        if (b.length < 28 || b[0] != 0x7F || b[1] != 'E' || b[4] != 1) throw new IllegalArgumentException(elf + " is not an ELF32 file");
        return (b[24] & 0xFFL) | (b[25] & 0xFFL) << 8 | (b[26] & 0xFFL) << 16 | (b[27] & 0xFFL) << 24;
    }
}
