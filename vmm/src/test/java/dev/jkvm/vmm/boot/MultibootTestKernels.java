package dev.jkvm.vmm.boot;

import dev.jkvm.testsupport.GnuToolchain;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/** Small multiboot kernels built with the shared {@link GnuToolchain}, once per test JVM. */
final class MultibootTestKernels {
    private MultibootTestKernels() {}

    private static final GnuToolchain TOOLCHAIN = Binutils.TOOLCHAIN;

    /** Header flags: page-align modules and memory info (§3.1.2 bits 0 and 1). */
    static final int FLAGS = 0x3;
    static final int FLAGS_WITH_ADDRESSES = 0x10003;

    private static final Map<String, Path> BUILT = new HashMap<>();

    private static synchronized Path cached(String name, Supplier<Path> build) {
        return BUILT.computeIfAbsent(name, n -> build.get());
    }

    /**
     * A kernel with code, local and global functions, data objects, plain labels and a bss with a
     * stack. {@code padding} bytes before the header push it further into the file.
     */
    static String source(int flags, boolean addressFields, int padding) {
        return source(flags, addressFields, padding, false);
    }

    /** As above; with {@code haltAtEntry} the first instruction is hlt, so nothing runs (the QEMU oracle). */
    static String source(int flags, boolean addressFields, int padding, boolean haltAtEntry) {
        String addresses = !addressFields ? "" : """
                .ifdef LOAD_END_ZERO
                    .long mb_header, load_start, 0
                .else
                    .long mb_header, load_start, load_end
                .endif
                .ifdef BSS_END_ZERO
                    .long 0
                .else
                    .long bss_end
                .endif
                    .long _start
                """;
        return """
                    .set MB_MAGIC, 0x1BADB002
                    .set MB_FLAGS, %d
                    .text
                load_start:
                    .skip %d
                    .balign 4
                mb_header:
                    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
                %s
                    .globl _start
                    .type _start, @function
                _start:
                %s
                    mov $stack_top, %%esp
                    mov %%eax, magic_seen
                    mov %%ebx, mbi_seen
                    call helper
                spin:
                    hlt
                    jmp spin
                    .size _start, . - _start
                    .type helper, @function
                helper:
                    incl counter
                    ret
                    .size helper, . - helper

                    .data
                    .globl counter
                    .type counter, @object
                    .size counter, 4
                counter: .long 0x12345678
                    .globl message
                    .type message, @object
                message: .asciz "hello from the multiboot test kernel"
                    .size message, . - message
                load_end:

                    .bss
                    .balign 16
                stack_bottom: .skip 16384
                stack_top:
                    .globl magic_seen
                    .type magic_seen, @object
                    .size magic_seen, 4
                magic_seen: .skip 4
                mbi_seen: .skip 4
                bss_end:
                """.formatted(flags, padding, addresses, haltAtEntry ? "    hlt" : "");
    }

    static Path elf32() {
        return elf32(false);
    }

    static Path elf32(boolean haltAtEntry) {
        String name = haltAtEntry ? "k32-halt" : "k32";
        return cached(name, () -> {
            TOOLCHAIN.assemble(name, source(FLAGS, false, 0, haltAtEntry), false);
            return TOOLCHAIN.link(name, name + ".elf", "-m", "elf_i386", "-Ttext", "0x100000");
        });
    }

    static Path elf64() {
        return cached("elf64", () -> {
            TOOLCHAIN.assemble("k64", source(FLAGS, false, 0), true);
            return TOOLCHAIN.link("k64", "k64.elf", "-m", "elf_x86_64", "-Ttext", "0x100000");
        });
    }

    /** Linked at 0xC0100000 but loaded at 1 MiB (p_vaddr != p_paddr), like higher-half kernels. */
    static Path higherHalf() {
        return higherHalf(false);
    }

    static Path higherHalf(boolean haltAtEntry) {
        String name = haltAtEntry ? "khigh-halt" : "khigh";
        return cached(name, () -> {
            TOOLCHAIN.assemble(name, source(FLAGS, false, 0, haltAtEntry), false);
            TOOLCHAIN.write("higher.ld", """
                    ENTRY(_start)
                    SECTIONS {
                        . = 0xC0100000;
                        .text : AT(0x100000) { *(.text) }
                        .data ALIGN(4096) : AT(ADDR(.data) - 0xC0000000) { *(.data) }
                        .bss ALIGN(4096) : AT(ADDR(.bss) - 0xC0000000) { *(.bss) }
                    }
                    """);
            return TOOLCHAIN.link(name, name + ".elf", "-m", "elf_i386", "-T", "higher.ld");
        });
    }

    /** A flat binary (objcopy -O binary) placed by the header's address fields (§3.1.3). */
    static Path kludge(boolean loadEndZero, boolean bssEndZero) {
        return kludge(loadEndZero, bssEndZero, false);
    }

    static Path kludge(boolean loadEndZero, boolean bssEndZero, boolean haltAtEntry) {
        String name = "kaout" + (loadEndZero ? "-le0" : "") + (bssEndZero ? "-bss0" : "") + (haltAtEntry ? "-halt" : "");
        return cached(name, () -> {
            String[] defs = new String[0];
            if (loadEndZero && bssEndZero) defs = new String[] {"--defsym", "LOAD_END_ZERO=1", "--defsym", "BSS_END_ZERO=1"};
            else if (loadEndZero) defs = new String[] {"--defsym", "LOAD_END_ZERO=1"};
            else if (bssEndZero) defs = new String[] {"--defsym", "BSS_END_ZERO=1"};
            TOOLCHAIN.assemble(name, source(FLAGS_WITH_ADDRESSES, true, 0, haltAtEntry), false, defs);
            TOOLCHAIN.link(name, name + ".elf", "-m", "elf_i386", "-Ttext", "0x100000");
            TOOLCHAIN.run("objcopy", "-O", "binary", name + ".elf", name + ".bin");
            return TOOLCHAIN.dir().resolve(name + ".bin");
        });
    }

    /** The ELF the flat kludge binary was made from (for nm). */
    static Path kludgeElf(boolean loadEndZero, boolean bssEndZero) {
        return kludgeElf(loadEndZero, bssEndZero, false);
    }

    static Path kludgeElf(boolean loadEndZero, boolean bssEndZero, boolean haltAtEntry) {
        Path bin = kludge(loadEndZero, bssEndZero, haltAtEntry);
        return bin.resolveSibling(bin.getFileName().toString().replace(".bin", ".elf"));
    }

    /** The ELF32 kernel flattened without address fields: neither ELF nor kludge. */
    static Path flatWithoutAddressFields() {
        return cached("flat", () -> {
            elf32();
            TOOLCHAIN.run("objcopy", "-O", "binary", "k32.elf", "k32.bin");
            return TOOLCHAIN.dir().resolve("k32.bin");
        });
    }

    /** The header 9000 bytes into .text: beyond the first 8 KiB of the file. */
    static Path lateHeader() {
        return cached("late", () -> {
            TOOLCHAIN.assemble("klate", source(FLAGS, false, 9000), false);
            return TOOLCHAIN.link("klate", "klate.elf", "-m", "elf_i386", "-Ttext", "0x100000");
        });
    }

    /** An ELF32 kernel linked at {@code address}. */
    static Path linkedAt(long address) {
        String name = "kat" + Long.toHexString(address);
        return cached(name, () -> {
            TOOLCHAIN.assemble(name, source(FLAGS, false, 0), false);
            return TOOLCHAIN.link(name, name + ".elf", "-m", "elf_i386", "-Ttext", "0x" + Long.toHexString(address));
        });
    }

    /** .data placed (LMA) on top of .text: ld refuses unless told not to check. */
    static Path overlappingSegments() {
        return cached("overlap", () -> {
            TOOLCHAIN.assemble("kover", source(FLAGS, false, 0), false);
            TOOLCHAIN.write("overlap.ld", """
                    ENTRY(_start)
                    SECTIONS {
                        . = 0x100000;
                        .text : { *(.text) }
                        .data 0x200000 : AT(0x100010) { *(.data) }
                        .bss : { *(.bss) }
                    }
                    """);
            return TOOLCHAIN.link("kover", "kover.elf", "-m", "elf_i386", "--no-check-sections", "-T", "overlap.ld");
        });
    }

    /** An ELF64 kernel whose code (and entry) is above 4 GiB. */
    static Path elf64Above4GiB() {
        return cached("high64", () -> {
            TOOLCHAIN.assemble("khigh64", """
                        .set MB_MAGIC, 0x1BADB002
                        .set MB_FLAGS, 3
                        .text
                        .balign 4
                        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
                        .globl _start
                    _start:
                        hlt
                        jmp _start
                    """, true);
            return TOOLCHAIN.link("khigh64", "khigh64.elf", "-m", "elf_x86_64", "-Ttext", "0x100000000");
        });
    }

    /** The ELF32 kernel without symbols (strip --strip-all). */
    static Path stripped() {
        return cached("stripped", () -> {
            elf32();
            TOOLCHAIN.run("strip", "--strip-all", "-o", "k32-stripped.elf", "k32.elf");
            return TOOLCHAIN.dir().resolve("k32-stripped.elf");
        });
    }
}
