package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.u16;
import static dev.jkvm.vmm.boot.ImageBytes.u32;
import static dev.jkvm.vmm.boot.ImageBytes.u64;
import static dev.jkvm.vmm.boot.ImageBytes.u8;

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

    /** Sorted by address; at equal addresses the better name for {@link #symbolize} comes first. */
    private final List<ElfSymbol> byAddress;
    private final Map<String, Long> addressByName = new HashMap<>();

    private SymbolTable(List<ElfSymbol> symbols) {
        List<ElfSymbol> sorted = new ArrayList<>(symbols);
        sorted.sort(Comparator.comparingLong(ElfSymbol::address).thenComparingInt(SymbolTable::preference));
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
     * The symbols of an ELF image; an empty table when it is not ELF or has no {@code .symtab}.
     * A damaged ELF file (tables beyond its end) is refused with a {@link MultibootException}.
     */
    public static SymbolTable of(byte[] image) {
        if (!ElfFile.isElf(image)) return EMPTY;
        return of(ElfFile.parse("kernel image", image));
    }

    static SymbolTable of(ElfFile elf) {
        List<ElfSection> sections = elf.sections();
        for (ElfSection table : sections) {
            if (table.type() != ElfSection.SHT_SYMTAB) continue;
            if (table.link() <= 0 || table.link() >= sections.size()) return EMPTY;
            ElfSection strings = sections.get(table.link());
            elf.requireInFile(table, "the ELF symbol table");
            elf.requireInFile(strings, "the ELF symbol string table");
            return new SymbolTable(read(elf, table, strings));
        }
        return EMPTY;
    }

    private static List<ElfSymbol> read(ElfFile elf, ElfSection table, ElfSection strings) {
        byte[] b = elf.image();
        long entrySize = elf.is64() ? 24 : 16;
        List<ElfSymbol> symbols = new ArrayList<>();
        for (long at = table.offset(); at + entrySize <= table.offset() + table.size(); at += entrySize) {
            int nameOffset = (int) u32(b, at);
            int info = u8(b, at + (elf.is64() ? 4 : 12));
            int sectionIndex = u16(b, at + (elf.is64() ? 6 : 14));
            long value = elf.is64() ? u64(b, at + 8) : u32(b, at + 4);
            long size = elf.is64() ? u64(b, at + 16) : u32(b, at + 8);
            int type = info & 0xF;
            int binding = info >> 4;
            boolean isAddress = type == ElfSymbol.STT_FUNC || type == ElfSymbol.STT_OBJECT || type == ElfSymbol.STT_NOTYPE;
            // Undefined symbols have no address; SHN_ABS and other reserved indexes hold constants.
            if (!isAddress || sectionIndex == SHN_UNDEF || sectionIndex >= SHN_LORESERVE) continue;
            String name = elf.string(strings, nameOffset);
            if (name.isEmpty()) continue;
            symbols.add(new ElfSymbol(name, value, size, type, binding != 0));
        }
        return symbols;
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
            if (offset >= s.size()) return null;
        } else {
            ElfSymbol next = nextAbove(s.address());
            if (next == null || address >= next.address()) return null;
        }
        return s.name() + "+0x" + Long.toHexString(offset);
    }

    private int lastAtOrBelow(long address) {
        int lo = 0;
        int hi = byAddress.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (byAddress.get(mid).address() <= address) {
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
