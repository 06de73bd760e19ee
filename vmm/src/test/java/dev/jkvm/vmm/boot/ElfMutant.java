package dev.jkvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A copy of a real kernel built by {@link MultibootTestKernels}, with fields patched the way an attacker
 * (or a broken tool) would. Field offsets are the System V ABI's ("ELF Header", "Program Header",
 * "Sections", "Symbol Table"), read here independently of the loader under test.
 */
final class ElfMutant {
    private ByteBuffer b;
    final Path source;
    final boolean is64;

    ElfMutant(Path elf) {
        source = elf;
        b = ByteBuffer.wrap(Binutils.bytes(elf)).order(ByteOrder.LITTLE_ENDIAN);
        is64 = b.get(4) == 2;
    }

    byte[] bytes() { return b.array().clone(); }
    int length() { return b.capacity(); }

    long phoff() { return is64 ? b.getLong(32) : Integer.toUnsignedLong(b.getInt(28)); }
    long shoff() { return is64 ? b.getLong(40) : Integer.toUnsignedLong(b.getInt(32)); }
    int phentsize() { return b.getShort(is64 ? 54 : 42); }
    int shentsize() { return b.getShort(is64 ? 58 : 46); }

    int programHeader(int index) { return (int) (phoff() + (long) index * phentsize()); }
    int sectionHeader(int index) { return (int) (shoff() + (long) index * shentsize()); }

    /** Index of the section {@code name} according to readelf. */
    int section(String name) { return Binutils.section(source, name).index(); }

    ElfMutant u8(int at, int v) { b.put(at, (byte) v); return this; }
    ElfMutant u16(int at, int v) { b.putShort(at, (short) v); return this; }
    ElfMutant u32(int at, long v) { b.putInt(at, (int) v); return this; }
    ElfMutant u64(int at, long v) { b.putLong(at, v); return this; }
    /** A 32- or 64-bit field, by the file's class. */
    ElfMutant word(int at, long v) { return is64 ? u64(at, v) : u32(at, v); }

    ElfMutant phnum(int n) { return u16(is64 ? 56 : 44, n); }
    ElfMutant shnum(int n) { return u16(is64 ? 60 : 48, n); }

    // Program header fields.
    ElfMutant pOffset(int i, long v) { return word(programHeader(i) + (is64 ? 8 : 4), v); }
    ElfMutant pPaddr(int i, long v) { return word(programHeader(i) + (is64 ? 24 : 12), v); }
    ElfMutant pFilesz(int i, long v) { return word(programHeader(i) + (is64 ? 32 : 16), v); }
    ElfMutant pMemsz(int i, long v) { return word(programHeader(i) + (is64 ? 40 : 20), v); }
    long pPaddr(int i) { return is64 ? b.getLong(programHeader(i) + 24) : Integer.toUnsignedLong(b.getInt(programHeader(i) + 12)); }
    long pFilesz(int i) { return is64 ? b.getLong(programHeader(i) + 32) : Integer.toUnsignedLong(b.getInt(programHeader(i) + 16)); }

    // Section header fields.
    ElfMutant shType(int i, int v) { return u32(sectionHeader(i) + 4, v); }
    ElfMutant shOffset(int i, long v) { return word(sectionHeader(i) + (is64 ? 24 : 16), v); }
    ElfMutant shSize(int i, long v) { return word(sectionHeader(i) + (is64 ? 32 : 20), v); }
    ElfMutant shLink(int i, int v) { return u32(sectionHeader(i) + (is64 ? 40 : 24), v); }
    long shOffset(int i) { return is64 ? b.getLong(sectionHeader(i) + 24) : Integer.toUnsignedLong(b.getInt(sectionHeader(i) + 16)); }
    long shSize(int i) { return is64 ? b.getLong(sectionHeader(i) + 32) : Integer.toUnsignedLong(b.getInt(sectionHeader(i) + 20)); }

    /** Appends {@code extra} bytes at the end of the file and returns where they start. */
    int append(byte[] extra) {
        int at = b.capacity();
        byte[] grown = Arrays.copyOf(b.array(), at + extra.length);
        System.arraycopy(extra, 0, grown, at, extra.length);
        b = ByteBuffer.wrap(grown).order(ByteOrder.LITTLE_ENDIAN);
        return at;
    }

    /**
     * Replaces the symbol and string tables with {@code count} copies of one defined function
     * symbol (in .text, section 1) whose names are at string offsets {@code nameOffset.apply(i)}.
     */
    ElfMutant symbols(int count, java.util.function.IntUnaryOperator nameOffset, byte[] strings) {
        int entry = is64 ? 24 : 16;
        ByteBuffer table = ByteBuffer.allocate(count * entry).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int at = i * entry;
            table.putInt(at, nameOffset.applyAsInt(i));
            int info = 1 << 4 | 2; // STB_GLOBAL, STT_FUNC
            if (is64) {
                table.put(at + 4, (byte) info).putShort(at + 6, (short) 1).putLong(at + 8, 0x100000 + i).putLong(at + 16, 1);
            } else {
                table.putInt(at + 4, 0x100000 + i).putInt(at + 8, 1).put(at + 12, (byte) info).putShort(at + 14, (short) 1);
            }
        }
        int symtab = section(".symtab");
        int strtab = section(".strtab");
        int tableAt = append(table.array());
        int stringsAt = append(strings);
        shOffset(symtab, tableAt).shSize(symtab, table.capacity());
        return shOffset(strtab, stringsAt).shSize(strtab, strings.length);
    }
}
