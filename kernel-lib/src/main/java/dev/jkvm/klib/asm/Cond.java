package dev.jkvm.klib.asm;

import java.util.Locale;

/** Condition codes of jcc/setcc/cmovcc, numbered as the low opcode nibble (Intel SDM Vol. 1 Appendix B). */
public enum Cond {
    O(0), NO(1), B(2), AE(3), E(4), NE(5), BE(6), A(7), S(8), NS(9), P(10), NP(11), L(12), GE(13), LE(14), G(15);

    private final int code;

    Cond(int code) {
        this.code = code;
    }

    /** The 4-bit condition number. */
    public int code() {
        return code;
    }

    /** The opposite condition (E to NE, L to GE, ...). */
    public Cond negate() {
        return values()[code ^ 1];
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
