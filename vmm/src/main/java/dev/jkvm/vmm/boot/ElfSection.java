package dev.jkvm.vmm.boot;

/**
 * One section header of an ELF file (System V ABI, "Sections"), widened to 64 bits.
 * {@code headerOffset} is where this header itself sits in the file.
 */
record ElfSection(int index, long headerOffset, int nameOffset, int type, long flags, long address,
                  long offset, long size, int link, long entrySize) {
    static final int SHT_NOBITS = 8;
    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;
    static final long SHF_ALLOC = 2;

    boolean isAllocated() { return (flags & SHF_ALLOC) != 0; }
    boolean hasFileBytes() { return type != SHT_NOBITS && size > 0; }
}
