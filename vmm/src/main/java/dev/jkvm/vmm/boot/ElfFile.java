package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.contains;
import static dev.jkvm.vmm.boot.ImageBytes.hex;
import static dev.jkvm.vmm.boot.ImageBytes.u16;
import static dev.jkvm.vmm.boot.ImageBytes.u32;
import static dev.jkvm.vmm.boot.ImageBytes.u64;
import static dev.jkvm.vmm.boot.ImageBytes.u8;

import java.util.ArrayList;
import java.util.List;

/**
 * The parts of an x86 ELF executable a boot loader needs: header, program headers and (lazily,
 * because a kernel boots without them) section headers. Field offsets are those of the System V
 * ABI ("ELF Header", "Program Header", "Sections") for ELFCLASS32 and ELFCLASS64.
 */
final class ElfFile {
    static final int ELFCLASS32 = 1;
    static final int ELFCLASS64 = 2;
    static final int EM_386 = 3;
    static final int EM_X86_64 = 62;
    private static final int ET_REL = 1;
    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;
    private static final int SHN_XINDEX = 0xFFFF;
    /** System V ABI, "ELF Identification": EI_DATA values. */
    private static final int ELFDATA2LSB = 1;
    private static final int ELFDATA2MSB = 2;

    private final String name;
    private final byte[] image;
    private final boolean is64;
    private final long entry;
    private final long sectionTableOffset;
    private final int sectionHeaderSize;
    private final int declaredSectionCount;
    private final int declaredNamesIndex;
    private final List<ElfSegment> segments;
    private final long headersEnd;
    private List<ElfSection> sections;

    /** True when the image starts with the ELF magic "\x7fELF". */
    static boolean isElf(byte[] image) {
        return image.length >= 4 && image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
    }

    /** Parses the header and program headers of an image for which {@link #isElf} holds. */
    static ElfFile parse(String name, byte[] image) {
        return new ElfFile(name, image);
    }

    private ElfFile(String name, byte[] image) {
        this.name = name;
        this.image = image;
        if (image.length < 16) throw truncated("the ELF identification", 0, 16);
        int elfClass = u8(image, 4);
        if (elfClass != ELFCLASS32 && elfClass != ELFCLASS64) {
            throw new MultibootException(name + ": unknown ELF class " + elfClass
                    + " (expected 1 for ELF32 or 2 for ELF64); the file is damaged");
        }
        is64 = elfClass == ELFCLASS64;
        int encoding = u8(image, 5);
        if (encoding == ELFDATA2MSB) {
            throw new MultibootException(name + ": is a big-endian ELF file; build the kernel for x86 (little-endian)");
        }
        if (encoding != ELFDATA2LSB) {
            throw new MultibootException(name + ": unknown ELF data encoding " + encoding
                    + " (EI_DATA must be 1, little-endian, for x86); the file is damaged");
        }
        int headerSize = is64 ? 64 : 52;
        if (image.length < headerSize) throw truncated("the ELF header", 0, headerSize);
        int type = u16(image, 16);
        if (type == ET_REL) {
            throw new MultibootException(name + ": is a relocatable object (ET_REL), not a linked kernel; link it with ld first");
        }
        if (type != ET_EXEC && type != ET_DYN) {
            throw new MultibootException(name + ": ELF type " + type + " is not an executable (ET_EXEC); link the kernel as an executable");
        }
        int machine = u16(image, 18);
        int expected = is64 ? EM_X86_64 : EM_386;
        if (machine != expected) {
            throw new MultibootException(name + ": ELF" + (is64 ? "64" : "32") + " machine " + machine
                    + " is not " + (is64 ? "EM_X86_64 (62)" : "EM_386 (3)") + "; build the kernel for x86");
        }
        entry = is64 ? u64(image, 24) : u32(image, 24);
        long programTableOffset = is64 ? u64(image, 32) : u32(image, 28);
        sectionTableOffset = is64 ? u64(image, 40) : u32(image, 32);
        int programHeaderSize = u16(image, is64 ? 54 : 42);
        int programHeaderCount = u16(image, is64 ? 56 : 44);
        sectionHeaderSize = u16(image, is64 ? 58 : 46);
        declaredSectionCount = u16(image, is64 ? 60 : 48);
        declaredNamesIndex = u16(image, is64 ? 62 : 50);
        int minimumProgramHeader = is64 ? 56 : 32;
        if (programHeaderCount > 0 && programHeaderSize < minimumProgramHeader) {
            throw new MultibootException(name + ": ELF program header size " + programHeaderSize
                    + " is below " + minimumProgramHeader + "; the file is damaged");
        }
        long tableLength = (long) programHeaderCount * programHeaderSize;
        if (!contains(image, programTableOffset, tableLength)) {
            throw truncated("the ELF program header table", programTableOffset, tableLength);
        }
        List<ElfSegment> list = new ArrayList<>();
        for (int i = 0; i < programHeaderCount; i++) {
            list.add(readSegment(i, programTableOffset + (long) i * programHeaderSize));
        }
        segments = List.copyOf(list);
        headersEnd = Math.max(headerSize, programTableOffset + tableLength);
    }

    private ElfSegment readSegment(int index, long at) {
        if (is64) {
            return new ElfSegment(index, u32i(at), u32i(at + 4), u64(image, at + 8), u64(image, at + 16),
                    u64(image, at + 24), u64(image, at + 32), u64(image, at + 40));
        }
        return new ElfSegment(index, u32i(at), u32i(at + 24), u32(image, at + 4), u32(image, at + 8),
                u32(image, at + 12), u32(image, at + 16), u32(image, at + 20));
    }

    private int u32i(long at) { return (int) u32(image, at); }

    MultibootException truncated(String what, long offset, long length) {
        return new MultibootException(name + ": " + what + " at file offset " + hex(offset) + "+" + hex(length)
                + " lies beyond the end of the file (" + image.length + " bytes); the kernel image is truncated, rebuild or recopy it");
    }

    boolean is64() { return is64; }
    /** End of the ELF header and program header table in the file. */
    long headersEnd() { return headersEnd; }
    long entry() { return entry; }
    List<ElfSegment> segments() { return segments; }
    byte[] image() { return image; }

    /** Size of one section header in the file (the multiboot info passes it on as {@code size}). */
    int sectionHeaderSize() { return sectionHeaderSize; }
    long sectionTableOffset() { return sectionTableOffset; }

    /**
     * The section headers, or none when the file has no table. Counts too large for the 16-bit
     * header fields are stored in section 0 (System V ABI, "Sections": extended numbering).
     */
    List<ElfSection> sections() {
        if (sections != null) return sections;
        if (sectionTableOffset == 0 || sectionHeaderSize == 0) return sections = List.of();
        if (sectionHeaderSize < (is64 ? 64 : 40)) {
            throw new MultibootException(name + ": ELF section header size " + sectionHeaderSize + " is too small; the file is damaged");
        }
        if (!contains(image, sectionTableOffset, sectionHeaderSize)) {
            throw truncated("the ELF section header table", sectionTableOffset, sectionHeaderSize);
        }
        long count = declaredSectionCount;
        if (count == 0) count = readSection(0).size();
        // count comes from a 64-bit field: compare it with what the file can hold instead of
        // multiplying, which could wrap (2^58 entries of 64 bytes are 0 bytes in 64-bit arithmetic).
        long room = (image.length - sectionTableOffset) / sectionHeaderSize;
        if (Long.compareUnsigned(count, room) > 0) {
            throw new MultibootException(name + ": the ELF section header table at file offset " + hex(sectionTableOffset)
                    + " has " + Long.toUnsignedString(count) + " entries of " + sectionHeaderSize + " bytes, but only " + room
                    + " fit before the end of the file (" + image.length + " bytes); the file is truncated or damaged");
        }
        List<ElfSection> list = new ArrayList<>();
        for (int i = 0; i < (int) count; i++) list.add(readSection(i));
        return sections = List.copyOf(list);
    }

    /** Index of the section holding the section names (e_shstrndx, or section 0's sh_link). */
    int sectionNamesIndex() {
        if (declaredNamesIndex == SHN_XINDEX && !sections().isEmpty()) return sections().getFirst().link();
        return declaredNamesIndex;
    }

    private ElfSection readSection(int index) {
        long at = sectionTableOffset + (long) index * sectionHeaderSize;
        if (is64) {
            return new ElfSection(index, at, u32i(at), u32i(at + 4), u64(image, at + 8), u64(image, at + 16),
                    u64(image, at + 24), u64(image, at + 32), u32i(at + 40), u64(image, at + 56));
        }
        return new ElfSection(index, at, u32i(at), u32i(at + 4), u32(image, at + 8), u32(image, at + 12),
                u32(image, at + 16), u32(image, at + 20), u32i(at + 24), u32(image, at + 36));
    }

    /** The file bytes of a section, checked against the end of the file. */
    void requireInFile(ElfSection section, String what) {
        if (section.hasFileBytes() && !contains(image, section.offset(), section.size())) {
            throw truncated(what + " (section " + section.index() + ")", section.offset(), section.size());
        }
    }

    String name() { return name; }
}
