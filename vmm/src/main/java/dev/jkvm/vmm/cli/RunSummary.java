package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.api.VmStats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeSet;

/** What the launcher prints when a VM ends, as a text table and as JSON. */
record RunSummary(int cpus, long memory, VmOutcome outcome, VmStats stats) {

    String text() {
        StringBuilder s = new StringBuilder();
        s.append("\n--- jkvm: ").append(outcome.kind()).append(" (exit status ").append(outcome.exitStatus()).append(") ---\n");
        s.append(String.format("  %-26s %s%n", "cause", outcome.cause()));
        s.append(String.format("  %-26s %d vCPUs, %d MiB%n", "machine", cpus, memory >> 20));
        s.append(String.format("  %-26s %s%n", "accelerator", stats.accelerator()));
        s.append(String.format("  %-26s %s%n", "time to first serial byte", millis(stats.timeToFirstSerialByte())));
        s.append(String.format("  %-26s %s%n", "time to exit", millis(stats.timeToExit())));
        s.append(String.format("  %-26s %d reads, %d writes%n", "unknown ports", stats.unknownPortReads(), stats.unknownPortWrites()));
        s.append(String.format("  %-26s %d reads, %d writes%n", "unknown MMIO", stats.unknownMmioReads(), stats.unknownMmioWrites()));
        TreeSet<String> reasons = new TreeSet<>();
        for (Map<String, Long> m : stats.exitsPerVcpu()) reasons.addAll(m.keySet());
        if (!reasons.isEmpty()) {
            StringBuilder totals = new StringBuilder();
            for (String r : reasons) {
                if (!totals.isEmpty()) totals.append(", ");
                totals.append(r).append(' ').append(stats.totalExits(r));
            }
            s.append(String.format("  %-26s %s%n", "exits", totals));
            for (String note : stats.acceleratorNotes()) s.append("  ").append(note).append('\n');
            s.append("  exits by reason per vCPU:\n");
            s.append(String.format("    %-6s", "vCPU"));
            for (String r : reasons) s.append(String.format(" %12s", r));
            s.append('\n');
            for (int i = 0; i < stats.exitsPerVcpu().size(); i++) {
                s.append(String.format("    %-6d", i));
                for (String r : reasons) s.append(String.format(" %12d", stats.exitsPerVcpu().get(i).getOrDefault(r, 0L)));
                s.append('\n');
            }
        }
        return s.toString();
    }

    void writeJson(Path file) {
        StringBuilder j = new StringBuilder("{\n");
        j.append("  \"outcome\": ").append(quote(outcome.kind().name())).append(",\n");
        j.append("  \"exitStatus\": ").append(outcome.exitStatus()).append(",\n");
        j.append("  \"cause\": ").append(quote(outcome.cause())).append(",\n");
        j.append("  \"cpus\": ").append(cpus).append(",\n");
        j.append("  \"memoryBytes\": ").append(memory).append(",\n");
        j.append("  \"accelerator\": ").append(quote(stats.accelerator())).append(",\n");
        j.append("  \"acceleratorNotes\": [");
        for (int i = 0; i < stats.acceleratorNotes().size(); i++) j.append(i == 0 ? "" : ", ").append(quote(stats.acceleratorNotes().get(i)));
        j.append("],\n");
        j.append("  \"timeToFirstSerialByteMs\": ").append(jsonMillis(stats.timeToFirstSerialByte())).append(",\n");
        j.append("  \"timeToExitMs\": ").append(jsonMillis(stats.timeToExit())).append(",\n");
        j.append("  \"unknownPortReads\": ").append(stats.unknownPortReads()).append(",\n");
        j.append("  \"unknownPortWrites\": ").append(stats.unknownPortWrites()).append(",\n");
        j.append("  \"unknownMmioReads\": ").append(stats.unknownMmioReads()).append(",\n");
        j.append("  \"unknownMmioWrites\": ").append(stats.unknownMmioWrites()).append(",\n");
        j.append("  \"exitsPerVcpu\": [");
        for (int i = 0; i < stats.exitsPerVcpu().size(); i++) {
            j.append(i == 0 ? "\n    {" : ",\n    {");
            boolean first = true;
            for (Map.Entry<String, Long> e : new java.util.TreeMap<>(stats.exitsPerVcpu().get(i)).entrySet()) {
                if (!first) j.append(", ");
                j.append(quote(e.getKey())).append(": ").append(e.getValue());
                first = false;
            }
            j.append('}');
        }
        j.append("\n  ]\n}\n");
        try {
            Files.writeString(file, j);
        } catch (IOException e) {
            throw new UserError("cannot write the report to " + file + " (" + e.getClass().getSimpleName() + "); choose a writable path");
        }
    }

    private static String millis(Duration d) {
        return d == null ? "-" : String.format("%.1f ms", d.toNanos() / 1e6);
    }

    private static String jsonMillis(Duration d) {
        return d == null ? "null" : String.format(java.util.Locale.ROOT, "%.3f", d.toNanos() / 1e6);
    }

    static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
                    else q.append(c);
                }
            }
        }
        return q.append('"').toString();
    }
}
