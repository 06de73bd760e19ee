package dev.jkvm.klib.asm;

/**
 * An immutable memory operand: {@code seg:[base + index*scale + disp]}, RIP-relative
 * {@code [rip + label + disp]} or absolute {@code [address]} (Intel SDM Vol. 2A §2.1.5).
 *
 * <p>Build it fluently: {@code Mem.at(Reg.RBP).index(Reg.RCX, 8).disp(-16).m64()}.
 * The operand size ({@link #m8()} .. {@link #m64()}) is needed only where no register
 * operand fixes it, e.g. {@code mov [rax], 5}.
 */
public final class Mem {
    private final Reg base;
    private final Reg index;
    private final int scale;
    private final long disp;
    private final Label label;
    private final boolean ripRelative;
    private final int bits;
    private final SegReg segment;

    private Mem(Reg base, Reg index, int scale, long disp, Label label, boolean ripRelative, int bits, SegReg segment) {
        this.base = base;
        this.index = index;
        this.scale = scale;
        this.disp = disp;
        this.label = label;
        this.ripRelative = ripRelative;
        this.bits = bits;
        this.segment = segment;
    }

    /** {@code [base]}. */
    public static Mem at(Reg base) {
        checkAddressRegister(base);
        return new Mem(base, null, 1, 0, null, false, 0, null);
    }

    /** {@code [base + disp]}. */
    public static Mem at(Reg base, long disp) {
        return at(base).disp(disp);
    }

    /** {@code [base + label]}: a label's absolute address plus a register, e.g. a table indexed by a register. */
    public static Mem at(Reg base, Label target) {
        checkAddressRegister(base);
        if (target == null) {
            throw new AsmException("Mem.at(base, null): pass the label to address");
        }
        return new Mem(base, null, 1, 0, target, false, 0, null);
    }

    /** {@code [rip + label]}: position-independent reference (64-bit mode only). */
    public static Mem rip(Label target) {
        if (target == null) {
            throw new AsmException("Mem.rip(null): pass the label to address");
        }
        return new Mem(null, null, 1, 0, target, true, 0, null);
    }

    /** {@code [address]}: absolute address, encoded as a displacement with no base register. */
    public static Mem abs(long address) {
        return new Mem(null, null, 1, address, null, false, 0, null);
    }

    /** {@code [label]}: absolute address of a label, emitted as an absolute relocation. */
    public static Mem abs(Label target) {
        if (target == null) {
            throw new AsmException("Mem.abs(null): pass the label to address");
        }
        return new Mem(null, null, 1, 0, target, false, 0, null);
    }

    /** Adds {@code index*scale}; scale is 1, 2, 4 or 8 and the index cannot be (r/e)sp. */
    public Mem index(Reg indexReg, int scaleFactor) {
        checkAddressRegister(indexReg);
        if (ripRelative) {
            throw new AsmException("RIP-relative operand cannot have an index register: load the address with lea first");
        }
        if (indexReg.low3() == 4 && !indexReg.isExtended()) {
            throw new AsmException(indexReg + " cannot be an index register (Intel SDM Table 2-3): swap base and index");
        }
        if (scaleFactor != 1 && scaleFactor != 2 && scaleFactor != 4 && scaleFactor != 8) {
            throw new AsmException("scale " + scaleFactor + " is invalid: use 1, 2, 4 or 8");
        }
        return new Mem(base, indexReg, scaleFactor, disp, label, false, bits, segment);
    }

    /** Adds {@code d} to the displacement (or to the label's address). */
    public Mem disp(long d) {
        return new Mem(base, index, scale, disp + d, label, ripRelative, bits, segment);
    }

    /** Adds a segment-override prefix. */
    public Mem seg(SegReg s) {
        return new Mem(base, index, scale, disp, label, ripRelative, bits, s);
    }

    /** Marks the operand as {@code byte ptr}. */
    public Mem m8() {
        return size(8);
    }

    /** Marks the operand as {@code word ptr}. */
    public Mem m16() {
        return size(16);
    }

    /** Marks the operand as {@code dword ptr}. */
    public Mem m32() {
        return size(32);
    }

    /** Marks the operand as {@code qword ptr}. */
    public Mem m64() {
        return size(64);
    }

    /**
     * Sets the operand size in bits: 8, 16, 32, 64, or for far pointers 48 ({@code m16:32},
     * "fword") and 80 ({@code m16:64}, "tbyte").
     */
    public Mem size(int sizeBits) {
        if (sizeBits != 8 && sizeBits != 16 && sizeBits != 32 && sizeBits != 64 && sizeBits != 48 && sizeBits != 80) {
            throw new AsmException("memory operand size " + sizeBits + " is invalid: use 8, 16, 32, 64, 48 or 80");
        }
        return new Mem(base, index, scale, disp, label, ripRelative, sizeBits, segment);
    }

    /** Base register or null. */
    public Reg base() {
        return base;
    }

    /** Index register or null. */
    public Reg indexReg() {
        return index;
    }

    /** Scale factor (1 when there is no index). */
    public int scale() {
        return scale;
    }

    /** Constant displacement (the addend when a label is present). */
    public long displacement() {
        return disp;
    }

    /** The label of an RIP-relative or absolute-label operand, or null. */
    public Label label() {
        return label;
    }

    /** True for {@code [rip + label]}. */
    public boolean isRipRelative() {
        return ripRelative;
    }

    /** Operand size in bits, or 0 when not specified. */
    public int bits() {
        return bits;
    }

    /** Segment override or null. */
    public SegReg segment() {
        return segment;
    }

    /** Address size implied by the registers (16/32/64), or 0 when there are none. */
    int registerAddressBits() {
        if (ripRelative) {
            return 64;
        }
        if (base != null && index != null && base.bits() != index.bits()) {
            throw new AsmException("address registers of different widths in " + this + ": use " + base + " with "
                    + index.withBits(base.bits()));
        }
        return base != null ? base.bits() : index != null ? index.bits() : 0;
    }

    private static void checkAddressRegister(Reg r) {
        if (r == null || r.bits() == 8) {
            throw new AsmException("address register " + r + " is invalid: use a 16-, 32- or 64-bit register");
        }
    }

    /** Intel syntax as GNU as reads it, e.g. {@code qword ptr fs:[rax+rcx*4+0x10]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(switch (bits) {
            case 8 -> "byte ptr ";
            case 16 -> "word ptr ";
            case 32 -> "dword ptr ";
            case 64 -> "qword ptr ";
            case 48 -> "fword ptr ";
            case 80 -> "tbyte ptr ";
            default -> "";
        });
        if (segment != null) {
            sb.append(segment).append(':');
        }
        sb.append('[');
        String sep = "";
        if (ripRelative) {
            sb.append("rip");
            sep = "+";
        }
        if (base != null) {
            sb.append(base);
            sep = "+";
        }
        if (index != null) {
            sb.append(sep).append(index);
            if (scale != 1 || base == null) {
                sb.append('*').append(scale);
            }
            sep = "+";
        }
        if (label != null) {
            sb.append(sep).append(label);
            sep = "+";
        }
        if (disp != 0 || sep.isEmpty()) {
            if (disp < 0) {
                sb.append('-').append("0x").append(Long.toHexString(-disp));
            } else {
                sb.append(sep).append("0x").append(Long.toHexString(disp));
            }
        }
        return sb.append(']').toString();
    }
}
