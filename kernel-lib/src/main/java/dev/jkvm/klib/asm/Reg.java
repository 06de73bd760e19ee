package dev.jkvm.klib.asm;

import java.util.Locale;

/**
 * General-purpose registers of every width (Intel SDM Vol. 2A §2.2.1.2, Table 3-1).
 *
 * <p>SPL/BPL/SIL/DIL and R8B..R15B need a REX prefix; AH/CH/DH/BH share the same numbers
 * (4..7) but can only be encoded without one.
 */
public enum Reg {
    RAX(0, 64), RCX(1, 64), RDX(2, 64), RBX(3, 64), RSP(4, 64), RBP(5, 64), RSI(6, 64), RDI(7, 64),
    R8(8, 64), R9(9, 64), R10(10, 64), R11(11, 64), R12(12, 64), R13(13, 64), R14(14, 64), R15(15, 64),

    EAX(0, 32), ECX(1, 32), EDX(2, 32), EBX(3, 32), ESP(4, 32), EBP(5, 32), ESI(6, 32), EDI(7, 32),
    R8D(8, 32), R9D(9, 32), R10D(10, 32), R11D(11, 32), R12D(12, 32), R13D(13, 32), R14D(14, 32), R15D(15, 32),

    AX(0, 16), CX(1, 16), DX(2, 16), BX(3, 16), SP(4, 16), BP(5, 16), SI(6, 16), DI(7, 16),
    R8W(8, 16), R9W(9, 16), R10W(10, 16), R11W(11, 16), R12W(12, 16), R13W(13, 16), R14W(14, 16), R15W(15, 16),

    AL(0, 8), CL(1, 8), DL(2, 8), BL(3, 8), SPL(4, 8), BPL(5, 8), SIL(6, 8), DIL(7, 8),
    R8B(8, 8), R9B(9, 8), R10B(10, 8), R11B(11, 8), R12B(12, 8), R13B(13, 8), R14B(14, 8), R15B(15, 8),

    AH(4, 8), CH(5, 8), DH(6, 8), BH(7, 8);

    private final int code;
    private final int bits;

    Reg(int code, int bits) {
        this.code = code;
        this.bits = bits;
    }

    /** The 4-bit register number (bit 3 goes into REX.R/X/B). */
    public int code() {
        return code;
    }

    /** The low three bits of the register number, as placed in ModRM/SIB/opcode. */
    public int low3() {
        return code & 7;
    }

    /** True for R8..R15 in any width: their number needs a REX extension bit. */
    public boolean isExtended() {
        return code >= 8;
    }

    /** Width in bits: 8, 16, 32 or 64. */
    public int bits() {
        return bits;
    }

    /** True for AH, CH, DH, BH, which cannot appear in an instruction carrying a REX prefix. */
    public boolean isHighByte() {
        return ordinal() >= AH.ordinal();
    }

    /** True for SPL, BPL, SIL, DIL, which exist only when a REX prefix is present. */
    public boolean needsRex() {
        return bits == 8 && code >= 4 && code <= 7 && !isHighByte();
    }

    /** The same register number at another width (RAX.withBits(32) is EAX); high-byte registers have none. */
    public Reg withBits(int newBits) {
        if (isHighByte()) {
            throw new AsmException(this + " has no 16/32/64-bit alias: name the wider register directly");
        }
        int row = switch (newBits) {
            case 64 -> 0;
            case 32 -> 1;
            case 16 -> 2;
            case 8 -> 3;
            default -> throw new AsmException("register width " + newBits + " does not exist: use 8, 16, 32 or 64");
        };
        return values()[row * 16 + code];
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
