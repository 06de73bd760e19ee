package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.hex;
import static dev.jkvm.vmm.boot.ImageBytes.u16;
import static dev.jkvm.vmm.boot.ImageBytes.u32;
import static dev.jkvm.vmm.boot.ImageBytes.u64;
import static dev.jkvm.vmm.boot.ImageBytes.u8;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernel's code and data symbols, from the ELF {@code .symtab} and its string table, so the
 * VMM can name guest addresses (e.g. a faulting RIP) the way a debugger would.
 */
public final class SymbolTable {
    private static final int SHN_UNDEF = 0;
    private static final int SHN_LORESERVE = 0xFF00;
    private static final SymbolTable EMPTY = new SymbolTable(List.of());
    /** Far more than a kernel has (Linux with every option: about 200,000), far less than memory allows. */
    static final int MAX_SYMBOLS = 1 << 20;
    /** Longer than any real name (Linux's KSYM_NAME_LEN is 512); bounds the cost of one name. */
    static final int MAX_NAME_LENGTH = 4096;
    /** Bounds the memory all distinct names take together. */
    static final long MAX_NAME_BYTES = 64L << 20;

    /** Sorted by address; at equal addresses the better name for {@link #symbolize} comes first. */
    private final List<ElfSymbol> byAddress;
    private final Map<String, Long> addressByName = new HashMap<>();

    private SymbolTable(List<ElfSymbol> symbols) {
        List<ElfSymbol> sorted = new ArrayList<>(symbols);
        sorted.sort(Comparator.comparing(ElfSymbol::address, Long::compareUnsigned).thenComparingInt(SymbolTable::preference));
        byAddress = List.copyOf(sorted);
        for (ElfSymbol s : symbols) if (s.global()) addressByName.putIfAbsent(s.name(), s.address());
        for (ElfSymbol s : symbols) addressByName.putIfAbsent(s.name(), s.address());
    }

    /** Functions and objects name an address better than plain labels; globals better than locals. */
    private static int preference(ElfSymbol s) {
        int typed = s.type() == ElfSymbol.STT_NOTYPE ? 2 : 0;
        return typed + (s.global() ? 0 : 1);
    }

    public static SymbolTable empty() { return EMPTY; }

    /**
     * The symbols of an ELF image; an empty table when it is not an ELF file (a flat image that
     * merely starts with the magic included) or has no {@code .symtab}. A damaged symbol table is
     * refused with a {@link MultibootException}, the same way whichever path loads the kernel.
     */
    public static SymbolTable of(byte[] image) {
        if (!ElfFile.isElf(image)) return EMPTY;
        ElfFile elf;
        try {
            elf = ElfFile.parse("kernel image", image);
        } catch (MultibootException notAnElfHeader) {
            return EMPTY;
        }
        return of(elf);
    }

    static SymbolTable of(ElfFile elf) {
        List<ElfSection> sections = elf.sections();
        for (ElfSection table : sections) {
            if (table.type() != ElfSection.SHT_SYMTAB) continue;
            String what = "the ELF symbol table (section " + table.index() + ")";
            if (table.link() <= 0 || table.link() >= sections.size()) {
                throw damaged(elf, what + " names string table section " + Integer.toUnsignedString(table.link())
                        + ", but the file has sections 1 to " + (sections.size() - 1));
            }
            ElfSection strings = sections.get(table.link());
            if (table.size() > 0 && !table.hasFileBytes()) throw damaged(elf, what + " has no bytes in the file (SHT_NOBITS)");
            if (strings.type() != ElfSection.SHT_STRTAB) {
                throw damaged(elf, what + " names section " + strings.index() + " as its string table, but that section has type "
                        + strings.type() + ", not SHT_STRTAB (3)");
            }
            elf.requireInFile(table, "the ELF symbol table");
            elf.requireInFile(strings, "the ELF symbol string table");
            return new SymbolTable(read(elf, table, strings));
        }
        return EMPTY;
    }

    private static MultibootException damaged(ElfFile elf, String what) {
        return new MultibootException(elf.name() + ": " + what + "; the symbol table is damaged, relink the kernel"
                + " or strip it (strip --strip-all) to boot without symbols");
    }

    /**
     * Reads the symbols in one pass. Names are decoded once per string-table offset and shared
     * (many symbols may name one string), and bounded in length, count and total, so a hostile
     * file cannot make the table cost more than a fixed amount of memory and time.
     */
    private static List<ElfSymbol> read(ElfFile elf, ElfSection table, ElfSection strings) {
        byte[] b = elf.image();
        int entrySize = elf.is64() ? 24 : 16;
        long count = table.size() / entrySize;
        String what = "the ELF symbol table (section " + table.index() + ")";
        if (count > MAX_SYMBOLS) {
            throw damagedOrTooBig(elf, what + " has " + count + " entries, more than the " + MAX_SYMBOLS + " this VMM reads");
        }
        Map<Long, String> names = new HashMap<>();
        long nameBytes = 0;
        List<ElfSymbol> symbols = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            long at = table.offset() + i * entrySize;
            long nameOffset = u32(b, at);
            int info = u8(b, at + (elf.is64() ? 4 : 12));
            int sectionIndex = u16(b, at + (elf.is64() ? 6 : 14));
            long value = elf.is64() ? u64(b, at + 8) : u32(b, at + 4);
            long size = elf.is64() ? u64(b, at + 16) : u32(b, at + 8);
            int type = info & 0xF;
            int binding = info >> 4;
            boolean isAddress = type == ElfSymbol.STT_FUNC || type == ElfSymbol.STT_OBJECT || type == ElfSymbol.STT_NOTYPE;
            // Undefined symbols have no address; SHN_ABS and other reserved indexes hold constants.
            if (!isAddress || sectionIndex == SHN_UNDEF || sectionIndex >= SHN_LORESERVE) continue;
            String name = names.get(nameOffset);
            if (name == null) {
                name = string(elf, strings, nameOffset, i);
                nameBytes += name.length();
                if (nameBytes > MAX_NAME_BYTES) {
                    throw damagedOrTooBig(elf, what + " has names adding up to more than " + (MAX_NAME_BYTES >> 20)
                            + " MiB, more than this VMM reads");
                }
                names.put(nameOffset, name);
            }
            if (name.isEmpty()) continue;
            symbols.add(new ElfSymbol(name, value, size, type, binding != 0));
        }
        return symbols;
    }

    private static MultibootException damagedOrTooBig(ElfFile elf, String what) {
        return new MultibootException(elf.name() + ": " + what + "; strip the kernel (strip --strip-all) to boot it without symbols");
    }

    /** Symbol {@code index}'s NUL-terminated name at {@code offset} in {@code table}, checked against both ends. */
    private static String string(ElfFile elf, ElfSection table, long offset, long index) {
        if (offset == 0) return "";
        if (offset >= table.size()) {
            throw damaged(elf, "symbol " + index + "'s name at string offset " + hex(offset) + " lies outside its string table"
                    + " (section " + table.index() + ", " + table.size() + " bytes)");
        }
        byte[] b = elf.image();
        long start = table.offset() + offset;
        long limit = Math.min(table.offset() + table.size(), start + MAX_NAME_LENGTH + 1);
        long end = start;
        while (end < limit && b[(int) end] != 0) end++;
        if (end == limit) {
            if (end - start > MAX_NAME_LENGTH) {
                throw damagedOrTooBig(elf, "symbol " + index + "'s name is longer than " + MAX_NAME_LENGTH + " bytes");
            }
            throw damaged(elf, "symbol " + index + "'s name at string offset " + hex(offset) + " has no terminating NUL"
                    + " before the end of its string table (section " + table.index() + ")");
        }
        return new String(b, (int) start, (int) (end - start), StandardCharsets.UTF_8);
    }

    public int size() { return byAddress.size(); }
    public boolean isEmpty() { return byAddress.isEmpty(); }
    public List<ElfSymbol> symbols() { return byAddress; }

    /** The address of {@code name}; a global definition wins over a local one of the same name. */
    public Optional<Long> address(String name) {
        return Optional.ofNullable(addressByName.get(name));
    }

    /**
     * "name+0xoff" for the closest symbol at or below {@code address} that covers it: within its
     * size, or, for a symbol of size 0, before the next symbol starts. Null when none covers it.
     */
    public String symbolize(long address) {
        int i = lastAtOrBelow(address);
        if (i < 0) return null;
        ElfSymbol s = byAddress.get(i);
        while (i > 0 && byAddress.get(i - 1).address() == s.address()) s = byAddress.get(--i);
        long offset = address - s.address();
        if (s.size() > 0) {
            if (Long.compareUnsigned(offset, s.size()) >= 0) return null;
        } else {
            ElfSymbol next = nextAbove(s.address());
            if (next == null || Long.compareUnsigned(address, next.address()) >= 0) return null;
        }
        return s.name() + "+0x" + Long.toHexString(offset);
    }

    private int lastAtOrBelow(long address) {
        int lo = 0;
        int hi = byAddress.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(byAddress.get(mid).address(), address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    private ElfSymbol nextAbove(long address) {
        int i = lastAtOrBelow(address) + 1;
        return i < byAddress.size() ? byAddress.get(i) : null;
    }
}
