package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;

import java.util.Map;

/**
 * The output of one compilation, for the image builder.
 *
 * Sections (all in one Assembler): "text" holds the code of every compiled method, each at a
 * named label (see SymbolNames); "rodata" holds constant arrays and string literals (UTF-8
 * bytes followed by a NUL; Console.print passes address and length); "data" holds static
 * fields with their initial values (the values the class initialisers left on the build host);
 * "percpu" is the template of the per-CPU area: each CPU gets a copy and points GS.base at it,
 * and compiled code reads @PerCpu fields as gs:[offset].
 *
 * Relocations: each section's relocations() list the fields to patch once the sections have
 * addresses (PC32 for calls and RIP-relative data references across sections).
 * External symbols (panic and console routines, Asm.call targets) are labels the image builder
 * must bind in its own sections before laying out "text".
 */
public final class CompiledUnit {
    private final Assembler assembler;
    private final Map<MethodRef, Label> methods;
    private final Map<FieldRef, Label> staticFields;
    private final Map<FieldRef, Integer> perCpuOffsets;
    private final int perCpuSize;
    private final Map<String, Label> externals;
    private final java.util.List<SourceLine> sourceLines;

    CompiledUnit(Assembler assembler, Map<MethodRef, Label> methods, Map<FieldRef, Label> staticFields,
            Map<FieldRef, Integer> perCpuOffsets, int perCpuSize, Map<String, Label> externals,
            java.util.List<SourceLine> sourceLines) {
        this.sourceLines = java.util.List.copyOf(sourceLines);
        this.assembler = assembler;
        // Insertion-ordered copies, not Map.copyOf: its iteration order changes from one JVM to the
        // next, and an image builder that walks these maps must produce the same bytes every time.
        this.methods = ordered(methods);
        this.staticFields = ordered(staticFields);
        this.perCpuOffsets = ordered(perCpuOffsets);
        this.perCpuSize = perCpuSize;
        this.externals = ordered(externals);
    }

    private static <K, V> Map<K, V> ordered(Map<K, V> map) {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(map));
    }

    /** The assembler holding all sections; the image builder may add its own sections to it. */
    public Assembler assembler() {
        return assembler;
    }

    public Section text() {
        return section("text");
    }

    public Section rodata() {
        return section("rodata");
    }

    public Section data() {
        return section("data");
    }

    /** Template of one CPU's per-CPU area (offsets as in perCpuOffsets). */
    public Section perCpuTemplate() {
        return section("percpu");
    }

    private Section section(String name) {
        for (Section s : assembler.sections()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalStateException("no section " + name);
    }

    /** Entry label of every compiled method. */
    public Map<MethodRef, Label> methods() {
        return methods;
    }

    /** Entry label of a compiled method, e.g. method("dev.jkvm.kernel.Main", "start", "()V"). */
    public Label method(String binaryClassName, String name, String descriptor) {
        Label label = methods.get(new MethodRef(binaryClassName.replace('.', '/'), name, descriptor));
        if (label == null) {
            throw new IllegalArgumentException(binaryClassName + "." + name + descriptor
                    + " was not compiled: add it (or a caller) to the compiler's roots");
        }
        return label;
    }

    /** Label of each ordinary static field in "data". */
    public Map<FieldRef, Label> staticFields() {
        return staticFields;
    }

    /** GS offset of each @PerCpu field. */
    public Map<FieldRef, Integer> perCpuOffsets() {
        return perCpuOffsets;
    }

    /** Bytes of the per-CPU area that compiled code uses. */
    public int perCpuSize() {
        return perCpuSize;
    }

    /** Symbols compiled code calls but does not define, by name: bind each before layout. */
    /** Every compiled method's line table (SourceLine), method after method. */
    public java.util.List<SourceLine> sourceLines() {
        return sourceLines;
    }

    public Map<String, Label> externals() {
        return externals;
    }
}
