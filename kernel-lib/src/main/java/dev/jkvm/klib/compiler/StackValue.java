package dev.jkvm.klib.compiler;

/**
 * One entry of the JVM operand stack as the translator tracks it at compile time. Values are
 * kept symbolic (a constant, an unread local) until an instruction needs them, so that
 * "iload a; iload b; iadd" becomes one mov and one add on the registers holding a and b.
 * OperandStack.operand says where an entry's value is (an {@link Operand}); switches over the
 * cases here have no default, so the compiler checks that each one is handled.
 */
sealed interface StackValue {

    /** True for long (one entry, two JVM stack slots). */
    boolean wide();

    /** Width in bits of the Java value: 64 for long, 32 for every int-like type. */
    default int bits() {
        return wide() ? 64 : 32;
    }

    /** A compile-time constant; an int constant is kept sign-extended from 32 bits. */
    record Constant(long value, boolean wide) implements StackValue {
        public Constant {
            value = wide ? value : (int) value;
        }
    }

    /** The current value of a local variable, not yet copied (copied before the local changes). */
    record LocalRead(int slot, boolean wide) implements StackValue {
    }

    /** A value held in a register or frame slot. */
    record Located(Operand.Location location, boolean wide) implements StackValue {
    }

    /** A string literal: legal only as an argument of Console.print or Asm.call. */
    record StringLiteral(String text) implements StackValue {
        @Override
        public boolean wide() {
            return false;
        }
    }

    /** A reference to a static final constant array: legal only for indexing and length. */
    record ArrayRef(FieldRef field) implements StackValue {
        @Override
        public boolean wide() {
            return false;
        }
    }

    static StackValue constant(long value, boolean wide) {
        return new Constant(value, wide);
    }

    static StackValue local(int slot, boolean wide) {
        return new LocalRead(slot, wide);
    }

    static StackValue located(Operand.Location location, boolean wide) {
        return new Located(location, wide);
    }

    static StackValue string(String text) {
        return new StringLiteral(text);
    }

    static StackValue array(FieldRef field) {
        return new ArrayRef(field);
    }
}
