package dev.jkvm.klib.image;

import dev.jkvm.klib.asm.Section;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes an ELF32 little-endian EM_386 executable (System V gABI; TIS ELF 1.2): the ELF header
 * and program headers go at the start of the loaded image, the symbol table, string tables
 * and section headers after it (not loaded).
 */
final class Elf32Writer {
    static final int EHDR_SIZE = 52;
    static final int PHDR_SIZE = 32;
    private static final int SHDR_SIZE = 40;
    private static final int SYM_SIZE = 16;

    private static final int PT_LOAD = 1;
    private static final int PF_X = 1;
    private static final int PF_W = 2;
    private static final int PF_R = 4;
    private static final int SHT_PROGBITS = 1;
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_STRTAB = 3;
    private static final int SHT_NOBITS = 8;
    private static final int SHF_WRITE = 1;
    private static final int SHF_ALLOC = 2;
    private static final int SHF_EXECINSTR = 4;
    private static final int STB_GLOBAL = 1;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int EM_386 = 3;
    private static final int PAGE = 4096;

    /** A symbol with the index (among {@code sections}) of the placed section holding it. */
    record Symbol(String name, long address, int sectionIndex, boolean code) {
    }

    private Elf32Writer() {
    }

    /** Size of the ELF header plus {@code segments} program headers. */
    static int headerSize(int segments) {
        return EHDR_SIZE + segments * PHDR_SIZE;
    }

    /**
     * Completes the file. {@code loaded} is the memory image from {@code loadAddress}, whose
     * first bytes this method fills with the ELF header and one PT_LOAD per entry of
     * {@code segments} (the headers page itself is segment 0).
     */
    static byte[] write(byte[] loaded, long loadAddress, long entry, List<PlacedSection> segments,
                        List<PlacedSection> sections, List<Symbol> symbols) {
        ByteArrayOutputStream strtab = new ByteArrayOutputStream();
        strtab.write(0);
        ByteBuffer symtab = le(SYM_SIZE * (symbols.size() + 1));
        symtab.position(SYM_SIZE);
        for (Symbol s : symbols) {
            symtab.putInt(strtab.size());
            strtab.writeBytes((s.name() + "\0").getBytes(StandardCharsets.UTF_8));
            symtab.putInt((int) s.address());
            symtab.putInt(0);
            symtab.put((byte) ((STB_GLOBAL << 4) | (s.code() ? STT_FUNC : STT_OBJECT)));
            symtab.put((byte) 0);
            symtab.putShort((short) (s.sectionIndex() + 1));
        }

        ByteArrayOutputStream shstrtab = new ByteArrayOutputStream();
        shstrtab.write(0);
        int[] sectionNames = new int[sections.size()];
        for (int i = 0; i < sections.size(); i++) {
            sectionNames[i] = addName(shstrtab, sections.get(i).name());
        }
        int symtabName = addName(shstrtab, ".symtab");
        int strtabName = addName(shstrtab, ".strtab");
        int shstrtabName = addName(shstrtab, ".shstrtab");

        int symtabOffset = align(loaded.length, 4);
        int strtabOffset = symtabOffset + symtab.capacity();
        int shstrtabOffset = strtabOffset + strtab.size();
        int shdrOffset = align(shstrtabOffset + shstrtab.size(), 4);
        int shnum = sections.size() + 4;
        ByteBuffer file = le(shdrOffset + shnum * SHDR_SIZE);
        file.put(loaded);
        file.put(symtabOffset, symtab.array());
        file.put(strtabOffset, strtab.toByteArray());
        file.put(shstrtabOffset, shstrtab.toByteArray());

        file.position(0);
        file.put(new byte[] {0x7F, 'E', 'L', 'F', 1 /* ELFCLASS32 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */});
        file.position(16);
        file.putShort((short) 2); // ET_EXEC
        file.putShort((short) EM_386);
        file.putInt(1);
        file.putInt((int) entry);
        file.putInt(EHDR_SIZE);
        file.putInt(shdrOffset);
        file.putInt(0);
        file.putShort((short) EHDR_SIZE);
        file.putShort((short) PHDR_SIZE);
        file.putShort((short) segments.size());
        file.putShort((short) SHDR_SIZE);
        file.putShort((short) shnum);
        file.putShort((short) (shnum - 1));

        for (PlacedSection s : segments) {
            boolean bss = s.kind() == Section.Kind.BSS;
            file.putInt(PT_LOAD);
            file.putInt((int) s.fileOffset());
            file.putInt((int) s.address());
            file.putInt((int) s.address());
            file.putInt(bss ? 0 : (int) s.size());
            file.putInt((int) s.size());
            file.putInt(PF_R | (s.kind() == Section.Kind.CODE ? PF_X : 0)
                    | (s.kind() == Section.Kind.DATA || bss ? PF_W : 0));
            file.putInt(PAGE);
        }

        file.position(shdrOffset + SHDR_SIZE);
        for (int i = 0; i < sections.size(); i++) {
            PlacedSection s = sections.get(i);
            int flags = SHF_ALLOC | switch (s.kind()) {
                case CODE -> SHF_EXECINSTR;
                case DATA, BSS -> SHF_WRITE;
                case RODATA -> 0;
            };
            sectionHeader(file, sectionNames[i], s.kind() == Section.Kind.BSS ? SHT_NOBITS : SHT_PROGBITS, flags,
                    s.address(), s.fileOffset(), s.size(), 0, 0, PAGE, 0);
        }
        int strtabIndex = sections.size() + 2;
        sectionHeader(file, symtabName, SHT_SYMTAB, 0, 0, symtabOffset, symtab.capacity(), strtabIndex, 1, 4, SYM_SIZE);
        sectionHeader(file, strtabName, SHT_STRTAB, 0, 0, strtabOffset, strtab.size(), 0, 0, 1, 0);
        sectionHeader(file, shstrtabName, SHT_STRTAB, 0, 0, shstrtabOffset, shstrtab.size(), 0, 0, 1, 0);
        return file.array();
    }

    private static void sectionHeader(ByteBuffer b, int name, int type, int flags, long addr, long offset, long size,
                                      int link, int info, int align, int entsize) {
        b.putInt(name).putInt(type).putInt(flags).putInt((int) addr).putInt((int) offset).putInt((int) size)
                .putInt(link).putInt(info).putInt(align).putInt(entsize);
    }

    private static int addName(ByteArrayOutputStream table, String name) {
        int at = table.size();
        table.writeBytes((name + "\0").getBytes(StandardCharsets.UTF_8));
        return at;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int align(int v, int a) {
        return (v + a - 1) / a * a;
    }

    static Map<Section.Kind, String> names() {
        return Map.of(Section.Kind.CODE, ".text", Section.Kind.RODATA, ".rodata", Section.Kind.DATA, ".data",
                Section.Kind.BSS, ".bss");
    }
}
