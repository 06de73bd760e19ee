package dev.jkvm.klib.asm;

/**
 * The processor mode the code is assembled for; it fixes the default operand and address
 * sizes (Intel SDM Vol. 1 §3.6, Vol. 2A §2.2.1).
 */
public enum Mode {
    /** Real mode (and 16-bit protected mode): 16-bit operands and addresses by default. */
    REAL16(16),
    /** 32-bit protected mode: 32-bit operands and addresses by default. */
    PROTECTED32(32),
    /** 64-bit long mode: 32-bit operands, 64-bit addresses, REX prefixes available. */
    LONG64(64);

    private final int bits;

    Mode(int bits) {
        this.bits = bits;
    }

    /** The default address size in bits: 16, 32 or 64. */
    public int addressBits() {
        return bits;
    }

    /** The default operand size in bits: 16 in real mode, otherwise 32. */
    public int defaultOperandBits() {
        return bits == 16 ? 16 : 32;
    }

    /** The size of a stack slot pushed by push/call: 16, 32 or 64. */
    public int stackBits() {
        return bits;
    }
}
