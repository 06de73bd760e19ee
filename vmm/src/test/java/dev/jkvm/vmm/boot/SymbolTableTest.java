package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Symbol lookups agree with what nm reads from the same file. */
class SymbolTableTest {
    /** nm letters for defined code, data, read-only data and bss symbols. */
    private static final String ADDRESS_TYPES = "TtDdBbRr";

    private static Path kernel(boolean x86_64) {
        return x86_64 ? MultibootTestKernels.elf64() : MultibootTestKernels.elf32();
    }

    private static List<Binutils.NmSymbol> addressSymbols(Path elf) {
        List<Binutils.NmSymbol> list = new ArrayList<>();
        for (Binutils.NmSymbol s : Binutils.nm(elf).values()) {
            if (ADDRESS_TYPES.indexOf(s.type()) >= 0 && !s.name().startsWith("_")) list.add(s);
        }
        return list;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyNmSymbolHasTheSameAddress(boolean x86_64) {
        Path elf = kernel(x86_64);
        SymbolTable table = SymbolTable.of(Binutils.bytes(elf));
        List<Binutils.NmSymbol> symbols = addressSymbols(elf);
        assertTrue(symbols.size() >= 8, "the test kernel has symbols: " + symbols);
        for (Binutils.NmSymbol s : symbols) {
            assertEquals(Optional.of(s.address()), table.address(s.name()), s.name());
        }
        assertEquals(Optional.of(Binutils.nm(elf).get("_start").address()), table.address("_start"));
        assertEquals(Optional.empty(), table.address("no_such_symbol"));
        assertEquals(Optional.empty(), table.address("MB_MAGIC"), "absolute constants are not addresses");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sizedSymbolsCoverExactlyTheirSize(boolean x86_64) {
        Path elf = kernel(x86_64);
        SymbolTable table = SymbolTable.of(Binutils.bytes(elf));
        Map<String, Binutils.NmSymbol> nm = Binutils.nm(elf);
        for (String name : List.of("helper", "counter", "message", "magic_seen")) {
            Binutils.NmSymbol s = nm.get(name);
            assertTrue(s.size() > 0, "nm -S gives " + name + " a size");
            assertEquals(name + "+0x0", table.symbolize(s.address()));
            assertEquals(name + "+0x" + Long.toHexString(s.size() - 1), table.symbolize(s.address() + s.size() - 1));
        }
        // _start is sized too, but the plain label spin inside it is the closer symbol after it.
        long start = nm.get("_start").address();
        long spin = nm.get("spin").address();
        assertTrue(spin > start && spin < start + nm.get("_start").size());
        assertEquals("_start+0x0", table.symbolize(start));
        assertEquals("_start+0x" + Long.toHexString(spin - start - 1), table.symbolize(spin - 1));
        assertEquals("spin+0x0", table.symbolize(spin));
        // counter is 4 bytes and message follows it directly.
        assertEquals(nm.get("counter").address() + 4, nm.get("message").address());
        assertEquals("message+0x0", table.symbolize(nm.get("counter").address() + 4));
    }

    @Test
    void unsizedLabelsReachUpToTheNextSymbol() {
        Path elf = MultibootTestKernels.elf32();
        SymbolTable table = SymbolTable.of(Binutils.bytes(elf));
        Map<String, Binutils.NmSymbol> nm = Binutils.nm(elf);
        long stackBottom = nm.get("stack_bottom").address();
        long stackTop = nm.get("stack_top").address();
        assertEquals("stack_bottom+0x100", table.symbolize(stackBottom + 0x100));
        assertEquals("stack_bottom+0x" + Long.toHexString(stackTop - stackBottom - 1), table.symbolize(stackTop - 1));
        // Inside _start, the spin label is nearer than _start itself.
        long spin = nm.get("spin").address();
        assertEquals("spin+0x1", table.symbolize(spin + 1));
        assertNull(table.symbolize(0x1000), "below every symbol");
        assertNull(table.symbolize(nm.get("_end").address() + 0x10000), "beyond the last symbol");
    }

    @Test
    void imagesWithoutSymbolsGiveAnEmptyTable() {
        assertTrue(SymbolTable.of(Binutils.bytes(MultibootTestKernels.stripped())).isEmpty());
        assertTrue(SymbolTable.of(Binutils.bytes(MultibootTestKernels.kludge(false, false))).isEmpty());
        assertNull(SymbolTable.empty().symbolize(0x100000));
    }
}
