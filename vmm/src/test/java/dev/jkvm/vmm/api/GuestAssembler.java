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
 * project's own): {@code as --64}, {@code ld} at 1 MiB, then {@code objcopy -O elf32-i386}
 * because multiboot loaders take ELF32 (the 64-bit object lets {@code .code64} parts use 64-bit
 * relocations). The source starts in {@code .code32} at {@code _start}; a Multiboot 0.6.96 header
 * (§3.1, ELF-load form) is prepended so the image boots through the VMM's public multiboot path.
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
            .code32
            .globl _start
            """;

    /** A multiboot ELF32 kernel with symbols, linked at {@link #LOAD_ADDRESS}. */
    public static byte[] multibootElf(String source) {
        return build(MULTIBOOT_HEADER + source);
    }

    private static byte[] build(String source) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("jkvm-guest");
            Path src = dir.resolve("guest.s");
            Files.writeString(src, source + "\n", StandardCharsets.UTF_8);
            run(dir, "as", "--64", "-o", "guest.o", "guest.s");
            // The multiboot header section goes first so the loader finds it in the first 8 KiB.
            run(dir, "ld", "-m", "elf_x86_64", "-N", "-e", "_start",
                    "--section-start=.multiboot=0x" + Long.toHexString(LOAD_ADDRESS),
                    "-Ttext=0x" + Long.toHexString(LOAD_ADDRESS + 0x10), "-o", "guest.elf", "guest.o");
            run(dir, "objcopy", "-O", "elf32-i386", "guest.elf", "guest32.elf");
            return Files.readAllBytes(dir.resolve("guest32.elf"));
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
