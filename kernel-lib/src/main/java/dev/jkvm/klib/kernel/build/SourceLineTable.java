package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.compiler.SourceLine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the compiled code's line tables (compiler.SourceLine) into the current (rodata) section
 * for trap.SourceLines: count, then (address, frame text or 0, line) triples; each distinct frame
 * text once, NUL-terminated. The class files' line numbers thereby reach the guest's reports.
 */
final class SourceLineTable {
    private SourceLineTable() {
    }

    @SafeVarargs
    static Label emit(Assembler a, List<SourceLine>... units) {
        List<SourceLine> rows = new ArrayList<>();
        for (List<SourceLine> unit : units) {
            rows.addAll(unit);
        }
        Map<String, Label> frames = new LinkedHashMap<>();
        for (SourceLine row : rows) {
            if (row.frame() != null && !frames.containsKey(row.frame())) {
                Label text = new Label();
                a.bind(text).asciz(row.frame());
                frames.put(row.frame(), text);
            }
        }
        Label table = new Label("kernel_source_lines");
        a.align(8).bind(table).dq(rows.size());
        for (SourceLine row : rows) {
            a.dq(row.at());
            if (row.frame() == null) {
                a.dq(0);
            } else {
                a.dq(frames.get(row.frame()));
            }
            a.dq(row.line());
        }
        return table;
    }
}
