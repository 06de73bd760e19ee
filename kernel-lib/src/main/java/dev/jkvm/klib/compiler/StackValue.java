package dev.jkvm.klib.compiler;

/**
 * One entry of the JVM operand stack as the translator tracks it at compile time. Values are
 * kept symbolic (a constant, an unread local) until an instruction needs them, so that
 * "iload a; iload b; iadd" becomes one mov and one add on the registers holding a and b.
 */
final class StackValue {
    enum Kind {
        /** A compile-time constant. */
        CONSTANT,
        /** The current value of a local variable, not yet copied (copied before the local changes). */
        LOCAL,
        /** A value held in a register or frame slot (the location field). */
        LOCATED,
        /** A string literal: legal only as an argument of Console.print or Asm.call. */
        STRING,
        /** A reference to a static final constant array: legal only for indexing and length. */
        ARRAY
    }

    final Kind kind;
    /** True for long (one entry, two JVM stack slots). */
    final boolean wide;
    final long constant;
    final int local;
    /** The register (64-bit name) or memory holding a LOCATED value. */
    final Operand.Location location;
    final String text;
    final FieldRef array;

    private StackValue(Kind kind, boolean wide, long constant, int local, Operand.Location location, String text,
            FieldRef array) {
        this.kind = kind;
        this.wide = wide;
        this.constant = constant;
        this.local = local;
        this.location = location;
        this.text = text;
        this.array = array;
    }

    static StackValue constant(long value, boolean wide) {
        return new StackValue(Kind.CONSTANT, wide, wide ? value : (int) value, -1, null, null, null);
    }

    static StackValue local(int slot, boolean wide) {
        return new StackValue(Kind.LOCAL, wide, 0, slot, null, null, null);
    }

    static StackValue located(Operand.Location location, boolean wide) {
        return new StackValue(Kind.LOCATED, wide, 0, -1, location, null, null);
    }

    static StackValue string(String text) {
        return new StackValue(Kind.STRING, false, 0, -1, null, text, null);
    }

    static StackValue array(FieldRef field) {
        return new StackValue(Kind.ARRAY, false, 0, -1, null, null, field);
    }

    boolean isConstant() {
        return kind == Kind.CONSTANT;
    }

    /** Width in bits of the Java value: 64 for long, 32 for every int-like type. */
    int bits() {
        return wide ? 64 : 32;
    }
}
