package dev.jkvm.klib.image;

import dev.jkvm.klib.asm.Section;

/**
 * Where a group of sections of one kind (text, rodata, data, bss) landed in the image.
 *
 * @param name       ELF section name (".text", ".rodata", ".data", ".bss")
 * @param kind       the assembler section kind of its members
 * @param address    load address (4 KiB aligned)
 * @param size       size in memory in bytes
 * @param fileOffset offset of its bytes in the file (for bss: where they would be; nothing is stored)
 */
public record PlacedSection(String name, Section.Kind kind, long address, long size, long fileOffset) {
}
