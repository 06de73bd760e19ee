package dev.jkvm.vmm.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds test guests from GNU assembler source with binutils (an assembler independent of the
 * project's own): {@code as --32}, then {@code ld} at 1 MiB. The source starts in 32-bit code
 * at {@code _start}; a Multiboot 0.6.96 header (§3.1, ELF-load form) is prepended so the image
 * boots through the VMM's public multiboot path.
 */
public final class GuestAssembler {
    private GuestAssembler() {}

    /** Where test kernels are linked. */
    public static final long LOAD_ADDRESS = 0x100000;

    private static final String MULTIBOOT_HEADER = """
            .section .multiboot, "a"
            .balign 4
            .long 0x1BADB002
            .long 0
            .long -0x1BADB002
            .text
            .globl _start
            """;

    /** A multiboot ELF32 kernel with symbols, linked at {@link #LOAD_ADDRESS}. */
    public static byte[] multibootElf(String source) {
        return build(MULTIBOOT_HEADER + source, false);
    }

    /** The raw bytes of the linked text, for loading at {@link #LOAD_ADDRESS} without a loader. */
    public static byte[] flat(String source) {
        return build(".text\n.globl _start\n" + source, true);
    }

    private static byte[] build(String source, boolean flat) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("jkvm-guest");
            Path src = dir.resolve("guest.s");
            Files.writeString(src, source + "\n", StandardCharsets.UTF_8);
            run(dir, "as", "--32", "-o", "guest.o", "guest.s");
            // The multiboot header section goes first so the loader finds it in the first 8 KiB.
            run(dir, "ld", "-m", "elf_i386", "-N", "-e", "_start",
                    "--section-start=.multiboot=0x" + Long.toHexString(LOAD_ADDRESS),
                    "-Ttext=0x" + Long.toHexString(LOAD_ADDRESS + (flat ? 0 : 0x10)), "-o", "guest.elf", "guest.o");
            if (!flat) return Files.readAllBytes(dir.resolve("guest.elf"));
            run(dir, "objcopy", "-O", "binary", "-j", ".text", "guest.elf", "guest.bin");
            return Files.readAllBytes(dir.resolve("guest.bin"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot build test guest: " + e.getMessage(), e);
        } finally {
            if (dir != null) deleteTree(dir);
        }
    }

    private static void run(Path dir, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command[0] + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp dir is harmless
        }
    }
}
