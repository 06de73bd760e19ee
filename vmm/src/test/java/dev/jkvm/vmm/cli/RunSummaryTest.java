package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.api.VmStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The summary names the accelerator and totals exits by their neutral kind, in text and JSON. */
class RunSummaryTest {
    private static final VmStats STATS = new VmStats(
            List.of(Map.of("io", 120L, "mmio", 4L), Map.of("io", 3L, "interrupted", 1L)),
            Duration.ofMillis(12), Duration.ofMillis(40), 0, 0, 0, 0, "emulated",
            List.of("emulated cpu: unimplemented opcode 0f 01 d0 at RIP 0x100000 (2 times)"));

    @Test
    void textNamesTheAcceleratorAndTotalsExits() {
        String text = new RunSummary(2, 256L << 20, VmOutcome.guestExit(0), STATS).text();
        assertTrue(text.matches("(?s).*accelerator\\s+emulated\\n.*"), text);
        assertTrue(text.matches("(?s).*exits\\s+interrupted 1, io 123, mmio 4\\n.*"), text);
        assertTrue(text.contains("exits by reason per vCPU"), text);
    }

    @Test
    void jsonNamesTheAccelerator(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("r.json");
        new RunSummary(2, 256L << 20, VmOutcome.guestExit(0), STATS).writeJson(report);
        String json = Files.readString(report);
        assertTrue(json.contains("\"accelerator\": \"emulated\","), json);
        assertTrue(json.contains("{\"interrupted\": 1, \"io\": 3}"), json);
    }
}
