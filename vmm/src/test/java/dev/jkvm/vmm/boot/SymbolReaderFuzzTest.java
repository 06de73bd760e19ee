package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzz target (Jazzer) for the ELF symbol reader: only its own
 * {@link MultibootException} with a one-line message, a table within the documented bounds, and
 * lookups that agree with each other. Corpus: src/test/resources/dev/jkvm/vmm/boot/SymbolReaderFuzzTestInputs/.
 */
class SymbolReaderFuzzTest {
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void symbols(byte[] image) {
        SymbolTable table;
        try {
            table = SymbolTable.of(image);
        } catch (MultibootException refused) {
            assertFalse(refused.getMessage().isEmpty() || refused.getMessage().contains("\n"), refused.getMessage());
            return;
        }
        assertTrue(table.size() <= SymbolTable.MAX_SYMBOLS);
        int checked = 0;
        for (ElfSymbol s : table.symbols()) {
            if (checked++ == 64) break;
            assertTrue(table.address(s.name()).isPresent(), s.name());
            assertTrue(s.name().length() <= SymbolTable.MAX_NAME_LENGTH);
            String where = table.symbolize(s.address());
            if (where != null) assertTrue(where.contains("+0x"), where);
            table.symbolize(s.address() + s.size());
            table.symbolize(s.address() - 1);
        }
    }
}
