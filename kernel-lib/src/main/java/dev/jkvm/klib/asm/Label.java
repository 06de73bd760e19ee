package dev.jkvm.klib.asm;

/**
 * A position in a {@link Section}, usable before it is bound (forward reference).
 *
 * <p>A named label becomes a symbol of its section (exported to the image's symbol table);
 * an anonymous one is local. Labels may be referenced from any section of any assembler;
 * references that cannot be resolved inside one section become {@link Relocation}s.
 */
public final class Label {
    private final String name;
    private Section section;
    private int fragment;
    private int offsetInFragment;

    /** An anonymous label. */
    public Label() {
        this(null);
    }

    /** A label with a symbol name, or anonymous when {@code name} is null. */
    public Label(String name) {
        this.name = name;
    }

    /** The symbol name, or null for an anonymous label. */
    public String name() {
        return name;
    }

    /** True once {@link Assembler#bind(Label)} placed it. */
    public boolean isBound() {
        return section != null;
    }

    /** The section it is bound in, or null. */
    public Section section() {
        return section;
    }

    /** Its byte offset within its section (valid once the section is laid out; forces layout). */
    public long offset() {
        if (section == null) {
            throw new AsmException("label " + this + " is used but was never bound: call bind(label) where it belongs");
        }
        return section.offsetOf(this);
    }

    void bind(Section section, int fragment, int offsetInFragment) {
        if (this.section != null) {
            throw new AsmException("label " + this + " is bound twice: use a separate Label for each position");
        }
        this.section = section;
        this.fragment = fragment;
        this.offsetInFragment = offsetInFragment;
    }

    int fragment() {
        return fragment;
    }

    int offsetInFragment() {
        return offsetInFragment;
    }

    @Override
    public String toString() {
        return name != null ? name : "L@" + Integer.toHexString(System.identityHashCode(this));
    }
}
