package dev.jkvm.klib.asm;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Builds the bytes of one instruction (Intel SDM Vol. 2A §2.1–2.2): legacy prefixes, REX,
 * opcode, ModRM, SIB, displacement, immediates. Prefixes are emitted in GNU as order
 * (segment, 0x67, 0x66, rep, lock, REX) so that output compares byte for byte.
 */
final class InstructionEncoder {

    /** The bytes of one instruction plus its label fields (positions relative to its start). */
    record Encoded(byte[] bytes, List<Fixup> fixups) {
    }

    private final Mode mode;
    private final String mnemonic;
    private final Object[] operands;

    private int segmentPrefix = -1;
    private boolean addressSizePrefix;
    private boolean operandSizePrefix;
    private int repPrefix = -1;
    private boolean lock;
    private boolean lockAllowed;
    private boolean repAllowed;
    private boolean rexW;
    private boolean rexR;
    private boolean rexX;
    private boolean rexB;
    private boolean rexRequired;
    private Reg highByteUsed;

    private final byte[] opcode = new byte[4];
    private int opcodeLength;
    private int modrm = -1;
    private int sib = -1;
    private long displacement;
    private int displacementSize;
    private Label displacementLabel;
    private Relocation.Kind displacementKind;

    private final long[] immValues = new long[2];
    private final int[] immSizes = new int[2];
    private final Label[] immLabels = new Label[2];
    private final Relocation.Kind[] immKinds = new Relocation.Kind[2];
    private int immCount;

    InstructionEncoder(Mode mode, String mnemonic, Object... operands) {
        this.mode = mode;
        this.mnemonic = mnemonic;
        this.operands = operands;
    }

    AsmException error(String why) {
        return new AsmException(why + " in " + text());
    }

    String text() {
        StringJoiner j = new StringJoiner(", ", mnemonic + (operands.length == 0 ? "" : " "), "");
        for (Object o : operands) {
            j.add(String.valueOf(o));
        }
        return j.toString();
    }

    /** Selects operand size {@code bits} with 0x66 or REX.W relative to the mode's default. */
    InstructionEncoder operandSize(int bits) {
        switch (bits) {
            case 8 -> {
            }
            case 16 -> operandSizePrefix = mode != Mode.REAL16;
            case 32 -> operandSizePrefix = mode == Mode.REAL16;
            case 64 -> {
                requireLongMode("a 64-bit operand");
                rexW = true;
            }
            default -> throw error("operand size " + bits + " is not encodable");
        }
        return this;
    }

    InstructionEncoder operandSizePrefix() {
        operandSizePrefix = true;
        return this;
    }

    /** Records that the program asked for LOCK; {@link #encode()} rejects it unless {@link #allowLock()} was called. */
    InstructionEncoder requestLock() {
        lock = true;
        return this;
    }

    /** Marks the instruction as a read-modify-write of memory, which LOCK may prefix (Intel SDM Vol. 2A LOCK). */
    InstructionEncoder allowLock() {
        lockAllowed = true;
        return this;
    }

    /** The moffs form (A0-A3): an absolute address of the mode's address size follows the opcode directly. */
    InstructionEncoder displacementOnly(Mem m) {
        if (m.segment() != null) {
            segmentPrefix = m.segment().overridePrefix();
        }
        if (m.base() != null || m.indexReg() != null || m.isRipRelative()) {
            throw error("the moffs form takes an absolute address only (Mem.abs)");
        }
        displacementSize = mode.addressBits() / 8;
        long disp = m.displacement();
        if (mode != Mode.LONG64) {
            long max = mode.addressBits() == 16 ? 0xFFFF : 0xFFFF_FFFFL;
            if (disp < -(max / 2 + 1) || disp > max) {
                throw error("address 0x" + Long.toHexString(disp) + " does not fit in " + mode.addressBits() + " bits");
            }
        }
        displacement = disp;
        displacementLabel = m.label();
        displacementKind = switch (mode) {
            case REAL16 -> Relocation.Kind.ABS16;
            case PROTECTED32 -> Relocation.Kind.ABS32;
            case LONG64 -> Relocation.Kind.ABS64;
        };
        return this;
    }

    InstructionEncoder rep(int prefix) {
        repPrefix = prefix;
        return this;
    }

    /** Marks a string instruction, the only kind REP may prefix here. */
    InstructionEncoder allowRep() {
        repAllowed = true;
        return this;
    }

    InstructionEncoder opcode(int... bytes) {
        for (int b : bytes) {
            opcode[opcodeLength++] = (byte) b;
        }
        return this;
    }

    /** Opcode with the register number in its low three bits (B8+r, 50+r, ...). */
    InstructionEncoder opcodePlusReg(int base, Reg r) {
        use(r);
        rexB = r.isExtended();
        return opcode(base + r.low3());
    }

    /** ModRM.reg holds register {@code r}. */
    InstructionEncoder reg(Reg r) {
        use(r);
        rexR = r.isExtended();
        return regField(r.low3());
    }

    /** ModRM.reg holds an opcode extension (/digit) or a special register number. */
    InstructionEncoder regField(int code) {
        if (code >= 8) {
            requireLongMode("register number " + code);
            rexR = true;
        }
        modrm = (modrm < 0 ? 0 : modrm & ~0x38) | ((code & 7) << 3);
        return this;
    }

    /** ModRM.r/m names register {@code r} (mod = 11). */
    InstructionEncoder rm(Reg r) {
        use(r);
        rexB = r.isExtended();
        modrm = (modrm < 0 ? 0 : modrm & 0x38) | 0xC0 | r.low3();
        return this;
    }

    /** ModRM.r/m names memory operand {@code m}. */
    InstructionEncoder rm(Mem m) {
        if (m.segment() != null) {
            segmentPrefix = m.segment().overridePrefix();
        }
        int reg = modrm < 0 ? 0 : modrm & 0x38;
        if (m.isRipRelative()) {
            requireLongMode("RIP-relative addressing (use Mem.abs(label) outside 64-bit mode)");
            modrm = reg | 0x05;
            displacement = m.displacement();
            displacementSize = 4;
            displacementLabel = m.label();
            displacementKind = Relocation.Kind.PC32;
            return this;
        }
        int addressBits = m.registerAddressBits();
        if (addressBits == 0) {
            addressBits = mode.addressBits();
        }
        if (addressBits == 64 && mode != Mode.LONG64) {
            throw error("64-bit address registers need 64-bit mode: use 32-bit registers");
        }
        if (addressBits == 16 && mode == Mode.LONG64) {
            throw error("16-bit addressing does not exist in 64-bit mode: use 64-bit registers");
        }
        if (m.base() != null) {
            use(m.base());
        }
        if (m.indexReg() != null) {
            use(m.indexReg());
        }
        addressSizePrefix = addressBits != mode.addressBits();
        if (addressBits == 16) {
            encode16BitAddress(m, reg);
        } else {
            encodeWideAddress(m, reg, addressBits);
        }
        return this;
    }

    private void encodeWideAddress(Mem m, int reg, int addressBits) {
        Reg base = m.base();
        Reg index = m.indexReg();
        long disp = m.displacement();
        boolean labelled = m.label() != null;
        if (addressBits == 64) {
            if (disp < Integer.MIN_VALUE || disp > Integer.MAX_VALUE) {
                throw error("displacement 0x" + Long.toHexString(disp)
                        + " does not fit in a sign-extended 32-bit field: load the address into a register (movabs)");
            }
        } else {
            if (disp < Integer.MIN_VALUE || disp > 0xFFFF_FFFFL) {
                throw error("displacement 0x" + Long.toHexString(disp) + " does not fit in 32 bits");
            }
            disp = (int) disp;
        }
        displacement = disp;
        displacementLabel = m.label();
        displacementKind = addressBits == 64 ? Relocation.Kind.ABS32S : Relocation.Kind.ABS32;
        if (base == null) {
            displacementSize = 4;
            if (index == null && addressBits != 64) {
                modrm = reg | 0x05;
                return;
            }
            modrm = reg | 0x04;
            sib = (scaleBits(m.scale()) << 6) | ((index == null ? 4 : index.low3()) << 3) | 5;
            rexX = index != null && index.isExtended();
            return;
        }
        int mod;
        if (!labelled && disp == 0 && base.low3() != 5) {
            mod = 0;
        } else if (!labelled && fitsInt8(disp)) {
            mod = 1;
            displacementSize = 1;
        } else {
            mod = 2;
            displacementSize = 4;
        }
        rexB = base.isExtended();
        if (index == null && base.low3() != 4) {
            modrm = (mod << 6) | reg | base.low3();
            return;
        }
        modrm = (mod << 6) | reg | 0x04;
        sib = (scaleBits(m.scale()) << 6) | ((index == null ? 4 : index.low3()) << 3) | base.low3();
        rexX = index != null && index.isExtended();
    }

    private void encode16BitAddress(Mem m, int reg) {
        if (m.indexReg() != null && m.scale() != 1) {
            throw error("16-bit addressing has no scaled index: use 32-bit registers");
        }
        Reg a = m.base();
        Reg b = m.indexReg();
        if (a == Reg.SI || a == Reg.DI) {
            Reg t = a;
            a = b;
            b = t;
        }
        int rm;
        if (a == null && b == null) {
            rm = -1;
        } else if (a == Reg.BX && b == Reg.SI) {
            rm = 0;
        } else if (a == Reg.BX && b == Reg.DI) {
            rm = 1;
        } else if (a == Reg.BP && b == Reg.SI) {
            rm = 2;
        } else if (a == Reg.BP && b == Reg.DI) {
            rm = 3;
        } else if (a == null && b == Reg.SI) {
            rm = 4;
        } else if (a == null && b == Reg.DI) {
            rm = 5;
        } else if (a == Reg.BP && b == null) {
            rm = 6;
        } else if (a == Reg.BX && b == null) {
            rm = 7;
        } else {
            throw error("16-bit addressing allows only [bx|bp] + [si|di]: use 32-bit registers for other combinations");
        }
        long disp = m.displacement();
        if (disp < Short.MIN_VALUE || disp > 0xFFFF) {
            throw error("displacement 0x" + Long.toHexString(disp) + " does not fit in 16 bits");
        }
        disp = (short) disp;
        boolean labelled = m.label() != null;
        displacement = disp;
        displacementLabel = m.label();
        displacementKind = Relocation.Kind.ABS16;
        if (rm < 0) {
            modrm = reg | 0x06;
            displacementSize = 2;
        } else if (!labelled && disp == 0 && rm != 6) {
            modrm = reg | rm;
        } else if (!labelled && fitsInt8(disp)) {
            modrm = 0x40 | reg | rm;
            displacementSize = 1;
        } else {
            modrm = 0x80 | reg | rm;
            displacementSize = 2;
        }
    }

    /**
     * Marks a label displacement as needing only its low 32 bits (lea into a 16/32-bit register
     * truncates the address, so sign extension cannot matter); GNU as then uses R_X86_64_32.
     */
    InstructionEncoder displacementTruncated() {
        if (displacementKind == Relocation.Kind.ABS32S) {
            displacementKind = Relocation.Kind.ABS32;
        }
        return this;
    }

    /** Appends an immediate of {@code size} bytes. */
    InstructionEncoder imm(long value, int size) {
        immValues[immCount] = value;
        immSizes[immCount] = size;
        immCount++;
        return this;
    }

    /** Appends an immediate holding the address of {@code target} plus {@code addend}. */
    InstructionEncoder immLabel(Label target, long addend, Relocation.Kind kind) {
        immValues[immCount] = addend;
        immSizes[immCount] = kind.width();
        immLabels[immCount] = target;
        immKinds[immCount] = kind;
        immCount++;
        return this;
    }

    private void use(Reg r) {
        if (r.bits() == 64) {
            requireLongMode("64-bit register " + r);
        }
        if (r.isExtended()) {
            requireLongMode("register " + r);
        }
        if (r.needsRex()) {
            requireLongMode("register " + r);
            rexRequired = true;
        }
        if (r.isHighByte()) {
            highByteUsed = r;
        }
    }

    private void requireLongMode(String what) {
        if (mode != Mode.LONG64) {
            throw error(what + " exists only in 64-bit mode (Mode.LONG64)");
        }
    }

    Encoded encode() {
        if (repPrefix >= 0 && !repAllowed) {
            throw error("rep prefix is only valid on a string instruction (movs, stos, lods)");
        }
        if (lock && !lockAllowed) {
            throw error("lock prefix is only valid on an instruction that writes a memory operand");
        }
        boolean rex = rexW || rexR || rexX || rexB || rexRequired;
        if (rex && highByteUsed != null) {
            throw error(highByteUsed + " cannot be encoded in an instruction that needs a REX prefix:"
                    + " use the low byte of another register (e.g. " + Reg.values()[Reg.AL.ordinal() + highByteUsed.low3() - 4] + ")");
        }
        byte[] out = new byte[15 + 8];
        int n = 0;
        if (segmentPrefix >= 0) {
            out[n++] = (byte) segmentPrefix;
        }
        if (addressSizePrefix) {
            out[n++] = 0x67;
        }
        if (operandSizePrefix) {
            out[n++] = 0x66;
        }
        if (repPrefix >= 0) {
            out[n++] = (byte) repPrefix;
        }
        if (lock) {
            out[n++] = (byte) 0xF0;
        }
        if (rex) {
            out[n++] = (byte) (0x40 | (rexW ? 8 : 0) | (rexR ? 4 : 0) | (rexX ? 2 : 0) | (rexB ? 1 : 0));
        }
        System.arraycopy(opcode, 0, out, n, opcodeLength);
        n += opcodeLength;
        if (modrm >= 0) {
            out[n++] = (byte) modrm;
        }
        if (sib >= 0) {
            out[n++] = (byte) sib;
        }
        List<Fixup> fixups = new ArrayList<>(1);
        int displacementPosition = n;
        if (displacementLabel == null) {
            n = putLittleEndian(out, n, displacement, displacementSize);
        } else {
            n += displacementSize;
        }
        for (int i = 0; i < immCount; i++) {
            if (immLabels[i] != null) {
                fixups.add(new Fixup(n, immKinds[i], immLabels[i], immValues[i]));
                n += immSizes[i];
            } else {
                n = putLittleEndian(out, n, immValues[i], immSizes[i]);
            }
        }
        if (displacementLabel != null) {
            long addend = displacementKind.isPcRelative()
                    ? displacement - (n - displacementPosition)
                    : displacement;
            fixups.add(new Fixup(displacementPosition, displacementKind, displacementLabel, addend));
        }
        if (n > 15) {
            throw error("instruction is " + n + " bytes, longer than the 15-byte limit");
        }
        return new Encoded(java.util.Arrays.copyOf(out, n), fixups);
    }

    private static int putLittleEndian(byte[] out, int at, long value, int size) {
        for (int i = 0; i < size; i++) {
            out[at + i] = (byte) (value >>> (8 * i));
        }
        return at + size;
    }

    private int scaleBits(int scale) {
        return Integer.numberOfTrailingZeros(scale);
    }

    static boolean fitsInt8(long v) {
        return v >= -128 && v <= 127;
    }
}
