package dev.jkvm.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The one builder of test guests with the GNU toolchain ({@code as}, {@code gcc}, {@code ld},
 * {@code objcopy}): an assembler and linker independent of the project's own, so a guest built
 * here checks the VMM and kernel-lib rather than sharing their mistakes. Every tool runs in one
 * working directory; a failing tool throws with its command line and output.
 *
 * <p>Two recipes give bootable kernels, both ELF32 with a Multiboot 0.6.96 header (§3.1) in the
 * first 8 KiB, because multiboot loaders (the VMM's and QEMU's {@code -kernel}) take ELF32 only;
 * the objects are 64-bit so that {@code .code64} parts may use 64-bit relocations, and
 * {@code objcopy -O elf32-i386} re-wraps the linked file:
 * <ul>
 *   <li>{@link #multibootElf(String)}: inline GNU as source starting in {@code .code32}, the
 *       header prepended (vmm's guest tests);
 *   <li>{@link #multibootKernel}: a preprocessed {@code .S} file with its own header, linked by
 *       {@link #LINKER_SCRIPT} (it/'s test kernels, and the shell benchmarks through {@link #main}).
 * </ul>
 *
 * <p>This file uses the JDK only, so the shell benchmarks run it as a source-file program
 * ({@code java test-support/src/main/java/dev/jkvm/testsupport/GnuToolchain.java SOURCE.S OUT.elf
 * [gcc options]}) without a Maven build.
 */
public final class GnuToolchain {
    /** Where kernels are linked: 1 MiB, the lowest address multiboot loaders place a kernel at. */
    public static final long LOAD_ADDRESS = 0x100000;

    /** Links {@link #multibootKernel} objects at 1 MiB with the multiboot header first. */
    public static final String LINKER_SCRIPT = """
            ENTRY(_start)
            SECTIONS
            {
                . = 0x100000;
                .text : { *(.multiboot) *(.text*) }
                .rodata : { *(.rodata*) }
                .data : { *(.data*) }
                .bss : { *(.bss*) *(COMMON) }
            }
            """;

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

    private final Path dir;

    /** A toolchain working in {@code dir} (created on first use). */
    public GnuToolchain(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** The working directory: sources, objects and outputs are named relative to it. */
    public Path dir() {
        return dir;
    }

    /** {@code dir/name}. */
    public Path resolve(String name) {
        return dir.resolve(name);
    }

    /** Runs {@code command} in the working directory and returns its output (stdout and stderr). */
    public String run(String... command) {
        try {
            Files.createDirectories(dir);
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command[0] + " did not finish within 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0] + " (install GNU binutils and gcc): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        }
    }

    /** Writes {@code text} to {@code dir/name}. */
    public Path write(String name, String text) {
        Path file = dir.resolve(name);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** Assembles {@code source} into {@code name.o} with {@code as --32} or {@code as --64}. */
    public Path assemble(String name, String source, boolean x86_64, String... asOptions) {
        write(name + ".s", source);
        List<String> cmd = new ArrayList<>(List.of("as", x86_64 ? "--64" : "--32"));
        cmd.addAll(List.of(asOptions));
        cmd.addAll(List.of(name + ".s", "-o", name + ".o"));
        run(cmd.toArray(String[]::new));
        return dir.resolve(name + ".o");
    }

    /** Links {@code object.o} into {@code output} with {@code ld} and the given options. */
    public Path link(String object, String output, String... ldOptions) {
        List<String> cmd = new ArrayList<>(List.of("ld"));
        cmd.addAll(List.of(ldOptions));
        cmd.addAll(List.of("-o", output, object + ".o"));
        run(cmd.toArray(String[]::new));
        return dir.resolve(output);
    }

    /**
     * Builds {@code dir/name.elf} from the preprocessed assembler file {@code source} (which brings
     * its own multiboot header in section {@code .multiboot}): {@code gcc -c} with the source's
     * directory and {@code gccOptions} (absolute include directories, defines), {@code ld} with
     * {@link #LINKER_SCRIPT}, {@code objcopy -O elf32-i386}.
     */
    public Path multibootKernel(Path source, String name, String... gccOptions) {
        Path script = write("kernel.ld", LINKER_SCRIPT);
        Path file = source.toAbsolutePath();
        List<String> gcc = new ArrayList<>(List.of("gcc", "-c", "-I" + file.getParent()));
        gcc.addAll(List.of(gccOptions));
        gcc.addAll(List.of("-o", name + ".o", file.toString()));
        run(gcc.toArray(String[]::new));
        link(name, name + ".elf64", "-m", "elf_x86_64", "-z", "max-page-size=4096", "-T", script.toString());
        run("objcopy", "-O", "elf32-i386", name + ".elf64", name + ".elf");
        return dir.resolve(name + ".elf");
    }

    /**
     * A multiboot ELF32 kernel with symbols from GNU as {@code source}, which starts in
     * {@code .code32} at {@code _start}: the header goes first at {@link #LOAD_ADDRESS} (section
     * {@code .multiboot}), {@code .text} 16 bytes later. Built in a temporary directory, deleted after.
     */
    public static byte[] multibootElf(String source) {
        Path temp;
        try {
            temp = Files.createTempDirectory("jkvm-guest");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary directory: " + e.getMessage(), e);
        }
        try {
            GnuToolchain t = new GnuToolchain(temp);
            t.assemble("guest", MULTIBOOT_HEADER + source + "\n", true);
            t.link("guest", "guest.elf", "-m", "elf_x86_64", "-N", "-e", "_start",
                    "--section-start=.multiboot=0x" + Long.toHexString(LOAD_ADDRESS),
                    "-Ttext=0x" + Long.toHexString(LOAD_ADDRESS + 0x10));
            t.run("objcopy", "-O", "elf32-i386", "guest.elf", "guest32.elf");
            return Files.readAllBytes(temp.resolve("guest32.elf"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the built guest: " + e.getMessage(), e);
        } finally {
            deleteTree(temp);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temporary directory is harmless
        }
    }

    /**
     * {@code GnuToolchain SOURCE.S OUT.elf [gcc options]}: {@link #multibootKernel} for the shell
     * benchmarks, its intermediate files next to {@code OUT.elf}.
     */
    public static void main(String[] args) {
        if (args.length < 2 || !args[1].endsWith(".elf")) {
            System.err.println("usage: GnuToolchain SOURCE.S OUT.elf [gcc options]: OUT must end in .elf");
            System.exit(2);
        }
        Path out = Path.of(args[1]).toAbsolutePath();
        String name = out.getFileName().toString().replaceFirst("\\.elf$", "");
        try {
            new GnuToolchain(out.getParent()).multibootKernel(Path.of(args[0]), name, Arrays.copyOfRange(args, 2, args.length));
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
