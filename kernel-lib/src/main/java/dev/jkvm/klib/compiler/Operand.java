package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

/**
 * Where the value of an operand stack entry is when an instruction uses it: an immediate, a
 * register or a memory operand (OperandStack.operand). The lowering classes switch over these
 * cases without a default, so the compiler checks that every case is handled.
 */
sealed interface Operand {

    /** A compile-time constant, emitted as an immediate where the instruction has one. */
    record Constant(long value) implements Operand {
        @Override
        public Constant sized(int bits) {
            return this;
        }
    }

    /** A place that can be written: a register or memory. Homes of locals and stack depths are locations. */
    sealed interface Location extends Operand {
        /** The same place at another width: the register's name for that width, or the memory operand sized. */
        @Override
        Location sized(int bits);
    }

    /**
     * A register. Stack entries and homes hold its 64-bit name; {@link #sized} names it at the
     * width of a use. Equal when it is the same name; {@link #sharesRegisterWith} asks whether
     * two names are one register.
     */
    record InRegister(Reg reg) implements Location {
        @Override
        public InRegister sized(int bits) {
            return new InRegister(reg.withBits(bits));
        }
    }

    /**
     * A memory operand without size (a frame slot, a static field). Equal only for the same Mem
     * object, as the translator's homes are compared: Mem has identity equality.
     */
    record InMemory(Mem mem) implements Location {
        @Override
        public InMemory sized(int bits) {
            return new InMemory(mem.size(bits));
        }
    }

    static Constant of(long value) {
        return new Constant(value);
    }

    static InRegister of(Reg reg) {
        return new InRegister(reg);
    }

    static InMemory of(Mem mem) {
        return new InMemory(mem);
    }

    /** This operand at the given width; a constant stays as it is (the use truncates it). */
    Operand sized(int bits);

    /** True when this is exactly the register {@code r} (the same name, so the same width). */
    default boolean is(Reg r) {
        return this instanceof InRegister(Reg reg) && reg == r;
    }

    /** True when this is a register with the same number as {@code r}, at any width. */
    default boolean sharesRegisterWith(Reg r) {
        return this instanceof InRegister(Reg reg) && reg.code() == r.code();
    }
}
