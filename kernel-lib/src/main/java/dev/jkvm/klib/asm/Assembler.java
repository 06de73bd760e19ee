package dev.jkvm.klib.asm;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An x86 assembler emitting machine code for 16-, 32- and 64-bit modes into named sections.
 *
 * <p>Operands are typed: {@link Reg}, {@link Mem}, {@link SegReg}, {@link CtrlReg}, {@code long}
 * immediates and {@link Label}s. Methods follow Intel operand order (destination first) and
 * return {@code this} for chaining:
 *
 * <pre>{@code
 * Assembler a = new Assembler(Mode.LONG64);
 * Label loop = new Label();
 * a.mov(Reg.ECX, 10).bind(loop).dec(Reg.ECX).jcc(Cond.NE, loop).ret();
 * byte[] code = a.currentSection().linkAt(0x100000);
 * }</pre>
 *
 * <p>Encodings match GNU as defaults (shortest immediate form, accumulator short forms,
 * relaxed jumps), which the test suite checks byte for byte. jmp/jcc to labels are relaxed
 * at layout: short when the displacement fits in 8 bits, else near; jumps to other sections
 * are always near. The mode can change mid-section ({@link #setMode(Mode)}), like
 * {@code .code32}/{@code .code64}.
 */
public final class Assembler {
    private Mode mode;
    private final Map<String, Section> sections = new LinkedHashMap<>();
    private Section current;
    private boolean lockNext;
    private int repNext = -1;

    /** An assembler in {@code mode} whose current section is a code section named "text". */
    public Assembler(Mode mode) {
        this.mode = mode;
        section("text", Section.Kind.CODE);
    }

    // ---------------------------------------------------------------- modes, sections, labels

    /** The mode instructions are currently encoded for. */
    public Mode mode() {
        return mode;
    }

    /** Switches the encoding mode for the following instructions (like {@code .code64}). */
    public Assembler setMode(Mode newMode) {
        this.mode = newMode;
        return this;
    }

    /** Makes {@code name} the current section, creating it with {@code kind} if new. */
    public Section section(String name, Section.Kind kind) {
        Section s = sections.get(name);
        if (s == null) {
            s = new Section(name, kind);
            sections.put(name, s);
        } else if (s.kind() != kind) {
            throw new AsmException("section " + name + " already exists as " + s.kind() + ", not " + kind
                    + ": use a different name");
        }
        current = s;
        return s;
    }

    /** Makes the existing section {@code name} current. */
    public Section section(String name) {
        Section s = sections.get(name);
        if (s == null) {
            throw new AsmException("no section named " + name + ": create it with section(name, kind)");
        }
        current = s;
        return s;
    }

    /** The section being appended to. */
    public Section currentSection() {
        return current;
    }

    /** All sections in creation order. */
    public List<Section> sections() {
        return List.copyOf(sections.values());
    }

    /** Binds {@code label} to the current position of the current section. */
    public Assembler bind(Label label) {
        int fragment = current.bindingFragment();
        Fragment last = current.fragments.get(fragment);
        int offset = last instanceof Fragment.Data d ? d.bytes.size() : 0;
        label.bind(current, fragment, offset);
        current.addSymbol(label);
        return this;
    }

    /** Creates a label named {@code name} bound here (a symbol). */
    public Label label(String name) {
        Label l = new Label(name);
        bind(l);
        return l;
    }

    // ---------------------------------------------------------------- prefixes

    /** Puts a LOCK prefix on the next instruction, which must write memory (add [m], r; xchg; cmpxchg; ...). */
    public Assembler lock() {
        lockNext = true;
        return this;
    }

    /** Puts a REP prefix on the next string instruction (movs/stos/lods). */
    public Assembler rep() {
        repNext = 0xF3;
        return this;
    }

    // ---------------------------------------------------------------- data movement

    /** {@code mov dst, src} between registers of equal width. */
    public Assembler mov(Reg dst, Reg src) {
        int bits = sameWidth("mov", dst, src);
        return emit(enc("mov", dst, src).operandSize(bits).opcode(bits == 8 ? 0x88 : 0x89).reg(src).rm(dst));
    }

    /** {@code mov dst, [mem]}. */
    public Assembler mov(Reg dst, Mem src) {
        int bits = matchWidth("mov", dst, src);
        if (dst.code() == 0 && isMoffsCandidate(src)) {
            return emit(moffs(enc("mov", dst, src).operandSize(bits).opcode(bits == 8 ? 0xA0 : 0xA1), src));
        }
        return emit(enc("mov", dst, src).operandSize(bits).opcode(bits == 8 ? 0x8A : 0x8B).reg(dst).rm(src));
    }

    /** {@code mov [mem], src}. */
    public Assembler mov(Mem dst, Reg src) {
        int bits = matchWidth("mov", src, dst);
        if (src.code() == 0 && isMoffsCandidate(dst)) {
            return emit(moffs(enc("mov", dst, src).operandSize(bits).opcode(bits == 8 ? 0xA2 : 0xA3), dst));
        }
        return emit(enc("mov", dst, src).operandSize(bits).opcode(bits == 8 ? 0x88 : 0x89).reg(src).rm(dst));
    }

    /**
     * {@code mov dst, imm}. A 64-bit register takes the sign-extended imm32 form when the value
     * fits, else the 10-byte {@code movabs} form.
     */
    public Assembler mov(Reg dst, long imm) {
        int bits = dst.bits();
        InstructionEncoder e = enc("mov", dst, imm);
        if (bits == 64) {
            if (fitsInt32(imm)) {
                return emit(e.operandSize(64).opcode(0xC7).regField(0).rm(dst).imm(imm, 4));
            }
            return emit(e.operandSize(64).opcodePlusReg(0xB8, dst).imm(imm, 8));
        }
        long v = immediate(e, imm, bits);
        return emit(e.operandSize(bits).opcodePlusReg(bits == 8 ? 0xB0 : 0xB8, dst).imm(v, bits / 8));
    }

    /** {@code mov [mem], imm}; the memory operand needs a size. */
    public Assembler mov(Mem dst, long imm) {
        InstructionEncoder e = enc("mov", dst, imm);
        int bits = sizeOf(e, dst);
        long v = immediate(e, imm, bits);
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xC6 : 0xC7).regField(0).rm(dst).imm(v, immBytes(bits)));
    }

    /**
     * {@code mov dst, offset label}: loads a label's absolute address (64-bit registers use
     * {@code movabs} with a 64-bit relocation, 32/16-bit ones a 32/16-bit relocation).
     */
    public Assembler mov(Reg dst, Label address) {
        InstructionEncoder e = enc("mov", dst, address);
        return switch (dst.bits()) {
            case 64 -> emit(e.operandSize(64).opcodePlusReg(0xB8, dst).immLabel(address, 0, Relocation.Kind.ABS64));
            case 32 -> emit(e.operandSize(32).opcodePlusReg(0xB8, dst).immLabel(address, 0, Relocation.Kind.ABS32));
            case 16 -> emit(e.operandSize(16).opcodePlusReg(0xB8, dst).immLabel(address, 0, Relocation.Kind.ABS16));
            default -> throw e.error("an address does not fit in an 8-bit register");
        };
    }

    /** {@code mov [mem], offset label}: stores a label's address (32-bit field, sign-extended for m64). */
    public Assembler mov(Mem dst, Label address) {
        InstructionEncoder e = enc("mov", dst, address);
        int bits = sizeOf(e, dst);
        Relocation.Kind kind = switch (bits) {
            case 16 -> Relocation.Kind.ABS16;
            case 64 -> Relocation.Kind.ABS32S;
            default -> Relocation.Kind.ABS32;
        };
        if (bits == 8) {
            throw e.error("an address does not fit in a byte");
        }
        return emit(e.operandSize(bits).opcode(0xC7).regField(0).rm(dst).immLabel(address, 0, kind));
    }

    /** {@code movabs dst, imm64}: always the 10-byte B8+r form (64-bit mode). */
    public Assembler movabs(Reg dst, long imm) {
        InstructionEncoder e = enc("movabs", dst, imm);
        if (dst.bits() != 64) {
            throw e.error("movabs needs a 64-bit register");
        }
        return emit(e.operandSize(64).opcodePlusReg(0xB8, dst).imm(imm, 8));
    }

    /** {@code movabs al/ax/eax/rax, [addr64]}: the A0/A1 form with a full 64-bit address (64-bit mode). */
    public Assembler movabs(Reg acc, Mem absolute) {
        InstructionEncoder e = enc("movabs", acc, absolute);
        checkMovabsMoffs(e, acc);
        int bits = matchWidth("movabs", acc, absolute);
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xA0 : 0xA1).displacementOnly(absolute));
    }

    /** {@code movabs [addr64], al/ax/eax/rax}: the A2/A3 form (64-bit mode). */
    public Assembler movabs(Mem absolute, Reg acc) {
        InstructionEncoder e = enc("movabs", absolute, acc);
        checkMovabsMoffs(e, acc);
        int bits = matchWidth("movabs", acc, absolute);
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xA2 : 0xA3).displacementOnly(absolute));
    }

    private void checkMovabsMoffs(InstructionEncoder e, Reg acc) {
        if (mode != Mode.LONG64) {
            throw e.error("movabs exists only in 64-bit mode");
        }
        if (acc.code() != 0 || acc.isHighByte()) {
            throw e.error("movabs with a memory operand moves through al, ax, eax or rax");
        }
    }

    /** {@code mov dst, sreg} (8C /r); a 32/64-bit destination gets the selector zero-extended. */
    public Assembler mov(Reg dst, SegReg src) {
        InstructionEncoder e = enc("mov", dst, src);
        if (dst.bits() == 8) {
            throw e.error("segment registers are 16 bits: use a 16-, 32- or 64-bit register");
        }
        if (dst.bits() != 64) {
            // GNU as leaves REX.W off "mov r64, sreg": the 32-bit form already zero-extends.
            e.operandSize(dst.bits());
        }
        return emit(e.opcode(0x8C).regField(src.code()).rm(dst));
    }

    /** {@code mov word ptr [mem], sreg}. */
    public Assembler mov(Mem dst, SegReg src) {
        InstructionEncoder e = enc("mov", dst, src);
        checkSizeIn(e, dst, 16);
        return emit(e.opcode(0x8C).regField(src.code()).rm(dst));
    }

    /** {@code mov sreg, src} (8E /r); loading CS this way is invalid. */
    public Assembler mov(SegReg dst, Reg src) {
        InstructionEncoder e = enc("mov", dst, src);
        checkNotCs(e, dst);
        if (src.bits() == 8) {
            throw e.error("segment registers are 16 bits: use a 16-, 32- or 64-bit register");
        }
        // No 0x66/REX.W: the selector is the low 16 bits whatever the register width (GNU as does the same).
        return emit(e.opcode(0x8E).regField(dst.code()).rm(src));
    }

    /** {@code mov sreg, word ptr [mem]}. */
    public Assembler mov(SegReg dst, Mem src) {
        InstructionEncoder e = enc("mov", dst, src);
        checkNotCs(e, dst);
        checkSizeIn(e, src, 16);
        return emit(e.opcode(0x8E).regField(dst.code()).rm(src));
    }

    /** {@code mov dst, crN} (0F 20 /r); the register is 32-bit outside and 64-bit inside long mode. */
    public Assembler mov(Reg dst, CtrlReg src) {
        InstructionEncoder e = enc("mov", dst, src);
        checkControlRegisterOperand(e, dst);
        return emit(e.opcode(0x0F, 0x20).regField(src.code()).rm(dst));
    }

    /** {@code mov crN, src} (0F 22 /r). */
    public Assembler mov(CtrlReg dst, Reg src) {
        InstructionEncoder e = enc("mov", dst, src);
        checkControlRegisterOperand(e, src);
        return emit(e.opcode(0x0F, 0x22).regField(dst.code()).rm(src));
    }

    /** {@code movzx dst, src}: zero-extends an 8- or 16-bit register. */
    public Assembler movzx(Reg dst, Reg src) {
        return extend("movzx", 0xB6, dst, src, src.bits());
    }

    /** {@code movzx dst, byte/word ptr [mem]}; the memory operand needs a size. */
    public Assembler movzx(Reg dst, Mem src) {
        return extend("movzx", 0xB6, dst, src, src.bits());
    }

    /** {@code movsx dst, src}: sign-extends an 8- or 16-bit register. */
    public Assembler movsx(Reg dst, Reg src) {
        return extend("movsx", 0xBE, dst, src, src.bits());
    }

    /** {@code movsx dst, byte/word ptr [mem]}; the memory operand needs a size. */
    public Assembler movsx(Reg dst, Mem src) {
        return extend("movsx", 0xBE, dst, src, src.bits());
    }

    /** {@code movsxd r64, r32} (REX.W 63 /r). */
    public Assembler movsxd(Reg dst, Reg src) {
        InstructionEncoder e = enc("movsxd", dst, src);
        if (dst.bits() != 64 || src.bits() != 32) {
            throw e.error("movsxd sign-extends a 32-bit source into a 64-bit register");
        }
        return emit(e.operandSize(64).opcode(0x63).reg(dst).rm(src));
    }

    /** {@code movsxd r64, dword ptr [mem]}. */
    public Assembler movsxd(Reg dst, Mem src) {
        InstructionEncoder e = enc("movsxd", dst, src);
        if (dst.bits() != 64) {
            throw e.error("movsxd sign-extends a 32-bit source into a 64-bit register");
        }
        checkSizeIn(e, src, 32);
        return emit(e.operandSize(64).opcode(0x63).reg(dst).rm(src));
    }

    /** {@code lea dst, [mem]}: computes the address (no memory access). */
    public Assembler lea(Reg dst, Mem src) {
        InstructionEncoder e = enc("lea", dst, src);
        if (dst.bits() == 8) {
            throw e.error("lea needs a 16-, 32- or 64-bit destination");
        }
        e.operandSize(dst.bits()).opcode(0x8D).reg(dst).rm(src);
        if (dst.bits() < 64) {
            e.displacementTruncated();
        }
        return emit(e);
    }

    /** {@code xchg a, b} (90+r when one side is the accumulator, like GNU as). */
    public Assembler xchg(Reg a, Reg b) {
        int bits = sameWidth("xchg", a, b);
        InstructionEncoder e = enc("xchg", a, b);
        if (bits != 8 && (a.code() == 0 || b.code() == 0)) {
            Reg other = a.code() == 0 ? b : a;
            boolean bothAccumulator = other.code() == 0;
            if (bothAccumulator && mode == Mode.LONG64 && bits == 64) {
                // GNU as emits plain 90 for xchg rax, rax: the same no-op without the REX.W byte.
                return emit(e.opcode(0x90));
            }
            e.operandSize(bits);
            boolean zeroExtendingNop = mode == Mode.LONG64 && bits == 32 && bothAccumulator;
            if (!zeroExtendingNop) {
                return emit(e.opcodePlusReg(0x90, other));
            }
        }
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0x86 : 0x87).reg(b).rm(a));
    }

    /** {@code xchg [mem], r} (implicitly locked by the processor). */
    public Assembler xchg(Mem a, Reg b) {
        int bits = matchWidth("xchg", b, a);
        return emit(enc("xchg", a, b).allowLock().operandSize(bits).opcode(bits == 8 ? 0x86 : 0x87).reg(b).rm(a));
    }

    /** {@code xchg r, [mem]}. */
    public Assembler xchg(Reg a, Mem b) {
        int bits = matchWidth("xchg", a, b);
        return emit(enc("xchg", a, b).allowLock().operandSize(bits).opcode(bits == 8 ? 0x86 : 0x87).reg(a).rm(b));
    }

    /** {@code bswap r32/r64}. */
    public Assembler bswap(Reg r) {
        InstructionEncoder e = enc("bswap", r);
        if (r.bits() < 32) {
            throw e.error("bswap needs a 32- or 64-bit register");
        }
        return emit(e.operandSize(r.bits()).opcode(0x0F).opcodePlusReg(0xC8, r));
    }

    // ---------------------------------------------------------------- arithmetic and logic

    /** {@code add dst, src}. */
    public Assembler add(Reg dst, Reg src) {
        return alu("add", 0, dst, src);
    }

    /** {@code add dst, [mem]}. */
    public Assembler add(Reg dst, Mem src) {
        return alu("add", 0, dst, src);
    }

    /** {@code add [mem], src} (lockable). */
    public Assembler add(Mem dst, Reg src) {
        return alu("add", 0, dst, src);
    }

    /** {@code add dst, imm}. */
    public Assembler add(Reg dst, long imm) {
        return alu("add", 0, dst, imm);
    }

    /** {@code add [mem], imm} (lockable; memory needs a size). */
    public Assembler add(Mem dst, long imm) {
        return alu("add", 0, dst, imm);
    }

    /** {@code or dst, src}. */
    public Assembler or(Reg dst, Reg src) {
        return alu("or", 1, dst, src);
    }

    /** {@code or dst, [mem]}. */
    public Assembler or(Reg dst, Mem src) {
        return alu("or", 1, dst, src);
    }

    /** {@code or [mem], src}. */
    public Assembler or(Mem dst, Reg src) {
        return alu("or", 1, dst, src);
    }

    /** {@code or dst, imm}. */
    public Assembler or(Reg dst, long imm) {
        return alu("or", 1, dst, imm);
    }

    /** {@code or [mem], imm}. */
    public Assembler or(Mem dst, long imm) {
        return alu("or", 1, dst, imm);
    }

    /** {@code adc dst, src}. */
    public Assembler adc(Reg dst, Reg src) {
        return alu("adc", 2, dst, src);
    }

    /** {@code adc dst, [mem]}. */
    public Assembler adc(Reg dst, Mem src) {
        return alu("adc", 2, dst, src);
    }

    /** {@code adc [mem], src}. */
    public Assembler adc(Mem dst, Reg src) {
        return alu("adc", 2, dst, src);
    }

    /** {@code adc dst, imm}. */
    public Assembler adc(Reg dst, long imm) {
        return alu("adc", 2, dst, imm);
    }

    /** {@code adc [mem], imm}. */
    public Assembler adc(Mem dst, long imm) {
        return alu("adc", 2, dst, imm);
    }

    /** {@code sbb dst, src}. */
    public Assembler sbb(Reg dst, Reg src) {
        return alu("sbb", 3, dst, src);
    }

    /** {@code sbb dst, [mem]}. */
    public Assembler sbb(Reg dst, Mem src) {
        return alu("sbb", 3, dst, src);
    }

    /** {@code sbb [mem], src}. */
    public Assembler sbb(Mem dst, Reg src) {
        return alu("sbb", 3, dst, src);
    }

    /** {@code sbb dst, imm}. */
    public Assembler sbb(Reg dst, long imm) {
        return alu("sbb", 3, dst, imm);
    }

    /** {@code sbb [mem], imm}. */
    public Assembler sbb(Mem dst, long imm) {
        return alu("sbb", 3, dst, imm);
    }

    /** {@code and dst, src}. */
    public Assembler and(Reg dst, Reg src) {
        return alu("and", 4, dst, src);
    }

    /** {@code and dst, [mem]}. */
    public Assembler and(Reg dst, Mem src) {
        return alu("and", 4, dst, src);
    }

    /** {@code and [mem], src}. */
    public Assembler and(Mem dst, Reg src) {
        return alu("and", 4, dst, src);
    }

    /** {@code and dst, imm}. */
    public Assembler and(Reg dst, long imm) {
        return alu("and", 4, dst, imm);
    }

    /** {@code and [mem], imm}. */
    public Assembler and(Mem dst, long imm) {
        return alu("and", 4, dst, imm);
    }

    /** {@code sub dst, src}. */
    public Assembler sub(Reg dst, Reg src) {
        return alu("sub", 5, dst, src);
    }

    /** {@code sub dst, [mem]}. */
    public Assembler sub(Reg dst, Mem src) {
        return alu("sub", 5, dst, src);
    }

    /** {@code sub [mem], src}. */
    public Assembler sub(Mem dst, Reg src) {
        return alu("sub", 5, dst, src);
    }

    /** {@code sub dst, imm}. */
    public Assembler sub(Reg dst, long imm) {
        return alu("sub", 5, dst, imm);
    }

    /** {@code sub [mem], imm}. */
    public Assembler sub(Mem dst, long imm) {
        return alu("sub", 5, dst, imm);
    }

    /** {@code xor dst, src}. */
    public Assembler xor(Reg dst, Reg src) {
        return alu("xor", 6, dst, src);
    }

    /** {@code xor dst, [mem]}. */
    public Assembler xor(Reg dst, Mem src) {
        return alu("xor", 6, dst, src);
    }

    /** {@code xor [mem], src}. */
    public Assembler xor(Mem dst, Reg src) {
        return alu("xor", 6, dst, src);
    }

    /** {@code xor dst, imm}. */
    public Assembler xor(Reg dst, long imm) {
        return alu("xor", 6, dst, imm);
    }

    /** {@code xor [mem], imm}. */
    public Assembler xor(Mem dst, long imm) {
        return alu("xor", 6, dst, imm);
    }

    /** {@code cmp a, b}. */
    public Assembler cmp(Reg a, Reg b) {
        return alu("cmp", 7, a, b);
    }

    /** {@code cmp a, [mem]}. */
    public Assembler cmp(Reg a, Mem b) {
        return alu("cmp", 7, a, b);
    }

    /** {@code cmp [mem], b}. */
    public Assembler cmp(Mem a, Reg b) {
        return alu("cmp", 7, a, b);
    }

    /** {@code cmp a, imm}. */
    public Assembler cmp(Reg a, long imm) {
        return alu("cmp", 7, a, imm);
    }

    /** {@code cmp [mem], imm}. */
    public Assembler cmp(Mem a, long imm) {
        return alu("cmp", 7, a, imm);
    }

    /** {@code test a, b}. */
    public Assembler test(Reg a, Reg b) {
        int bits = sameWidth("test", a, b);
        return emit(enc("test", a, b).operandSize(bits).opcode(bits == 8 ? 0x84 : 0x85).reg(b).rm(a));
    }

    /** {@code test [mem], b}. */
    public Assembler test(Mem a, Reg b) {
        int bits = matchWidth("test", b, a);
        return emit(enc("test", a, b).operandSize(bits).opcode(bits == 8 ? 0x84 : 0x85).reg(b).rm(a));
    }

    /** {@code test a, [mem]} (encoded as {@code test [mem], a}, the only form that exists). */
    public Assembler test(Reg a, Mem b) {
        int bits = matchWidth("test", a, b);
        return emit(enc("test", a, b).operandSize(bits).opcode(bits == 8 ? 0x84 : 0x85).reg(a).rm(b));
    }

    /** {@code test a, imm} (A8/A9 for the accumulator, like GNU as). */
    public Assembler test(Reg a, long imm) {
        InstructionEncoder e = enc("test", a, imm);
        int bits = a.bits();
        long v = immediate(e, imm, bits);
        e.operandSize(bits);
        if (a.code() == 0 && !a.isHighByte()) {
            return emit(e.opcode(bits == 8 ? 0xA8 : 0xA9).imm(v, immBytes(bits)));
        }
        return emit(e.opcode(bits == 8 ? 0xF6 : 0xF7).regField(0).rm(a).imm(v, immBytes(bits)));
    }

    /** {@code test [mem], imm}. */
    public Assembler test(Mem a, long imm) {
        InstructionEncoder e = enc("test", a, imm);
        int bits = sizeOf(e, a);
        long v = immediate(e, imm, bits);
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xF6 : 0xF7).regField(0).rm(a).imm(v, immBytes(bits)));
    }

    /** {@code inc r} (40+r outside 64-bit mode, like GNU as). */
    public Assembler inc(Reg r) {
        return incDec("inc", 0, r);
    }

    /** {@code inc [mem]} (lockable). */
    public Assembler inc(Mem m) {
        return unary("inc", 0xFE, 0, m, true);
    }

    /** {@code dec r}. */
    public Assembler dec(Reg r) {
        return incDec("dec", 1, r);
    }

    /** {@code dec [mem]} (lockable). */
    public Assembler dec(Mem m) {
        return unary("dec", 0xFE, 1, m, true);
    }

    /** {@code not r}. */
    public Assembler not(Reg r) {
        return unary("not", 0xF6, 2, r);
    }

    /** {@code not [mem]} (lockable). */
    public Assembler not(Mem m) {
        return unary("not", 0xF6, 2, m, true);
    }

    /** {@code neg r}. */
    public Assembler neg(Reg r) {
        return unary("neg", 0xF6, 3, r);
    }

    /** {@code neg [mem]} (lockable). */
    public Assembler neg(Mem m) {
        return unary("neg", 0xF6, 3, m, true);
    }

    /** {@code mul r}: unsigned rDX:rAX = rAX * r. */
    public Assembler mul(Reg r) {
        return unary("mul", 0xF6, 4, r);
    }

    /** {@code mul [mem]}. */
    public Assembler mul(Mem m) {
        return unary("mul", 0xF6, 4, m, false);
    }

    /** {@code imul r}: one-operand signed rDX:rAX = rAX * r. */
    public Assembler imul(Reg r) {
        return unary("imul", 0xF6, 5, r);
    }

    /** {@code imul [mem]}: one-operand form. */
    public Assembler imul(Mem m) {
        return unary("imul", 0xF6, 5, m, false);
    }

    /** {@code div r}: unsigned divide of rDX:rAX. */
    public Assembler div(Reg r) {
        return unary("div", 0xF6, 6, r);
    }

    /** {@code div [mem]}. */
    public Assembler div(Mem m) {
        return unary("div", 0xF6, 6, m, false);
    }

    /** {@code idiv r}: signed divide of rDX:rAX. */
    public Assembler idiv(Reg r) {
        return unary("idiv", 0xF6, 7, r);
    }

    /** {@code idiv [mem]}. */
    public Assembler idiv(Mem m) {
        return unary("idiv", 0xF6, 7, m, false);
    }

    /** {@code imul dst, src} (0F AF). */
    public Assembler imul(Reg dst, Reg src) {
        int bits = sameWidth("imul", dst, src);
        InstructionEncoder e = enc("imul", dst, src);
        noByte(e, bits);
        return emit(e.operandSize(bits).opcode(0x0F, 0xAF).reg(dst).rm(src));
    }

    /** {@code imul dst, [mem]}. */
    public Assembler imul(Reg dst, Mem src) {
        int bits = matchWidth("imul", dst, src);
        InstructionEncoder e = enc("imul", dst, src);
        noByte(e, bits);
        return emit(e.operandSize(bits).opcode(0x0F, 0xAF).reg(dst).rm(src));
    }

    /** {@code imul dst, src, imm} (6B ib or 69 iz). */
    public Assembler imul(Reg dst, Reg src, long imm) {
        int bits = sameWidth("imul", dst, src);
        InstructionEncoder e = enc("imul", dst, src, imm);
        noByte(e, bits);
        long v = immediate(e, imm, bits);
        e.operandSize(bits).reg(dst).rm(src);
        return emit(InstructionEncoder.fitsInt8(v) ? e.opcode(0x6B).imm(v, 1) : e.opcode(0x69).imm(v, immBytes(bits)));
    }

    /** {@code imul dst, [mem], imm}. */
    public Assembler imul(Reg dst, Mem src, long imm) {
        int bits = matchWidth("imul", dst, src);
        InstructionEncoder e = enc("imul", dst, src, imm);
        noByte(e, bits);
        long v = immediate(e, imm, bits);
        e.operandSize(bits).reg(dst).rm(src);
        return emit(InstructionEncoder.fitsInt8(v) ? e.opcode(0x6B).imm(v, 1) : e.opcode(0x69).imm(v, immBytes(bits)));
    }

    /** {@code imul dst, imm}: shorthand for {@code imul dst, dst, imm}. */
    public Assembler imul(Reg dst, long imm) {
        return imul(dst, dst, imm);
    }

    /** {@code cbw} (AX = sign-extend AL). */
    public Assembler cbw() {
        return emit(enc("cbw").operandSize(16).opcode(0x98));
    }

    /** {@code cwde} (EAX = sign-extend AX). */
    public Assembler cwde() {
        return emit(enc("cwde").operandSize(32).opcode(0x98));
    }

    /** {@code cdqe} (RAX = sign-extend EAX). */
    public Assembler cdqe() {
        return emit(enc("cdqe").operandSize(64).opcode(0x98));
    }

    /** {@code cwd} (DX:AX = sign-extend AX). */
    public Assembler cwd() {
        return emit(enc("cwd").operandSize(16).opcode(0x99));
    }

    /** {@code cdq} (EDX:EAX = sign-extend EAX), before 32-bit idiv. */
    public Assembler cdq() {
        return emit(enc("cdq").operandSize(32).opcode(0x99));
    }

    /** {@code cqo} (RDX:RAX = sign-extend RAX), before 64-bit idiv. */
    public Assembler cqo() {
        return emit(enc("cqo").operandSize(64).opcode(0x99));
    }

    // ---------------------------------------------------------------- shifts, rotates, bits

    /** {@code rol r, count} (by 1 uses D0/D1 like GNU as). */
    public Assembler rol(Reg r, int count) {
        return shift("rol", 0, r, count);
    }

    /** {@code rol [mem], count}. */
    public Assembler rol(Mem m, int count) {
        return shift("rol", 0, m, count);
    }

    /** {@code rol r, cl}; the count register must be CL. */
    public Assembler rol(Reg r, Reg cl) {
        return shift("rol", 0, r, cl);
    }

    /** {@code rol [mem], cl}. */
    public Assembler rol(Mem m, Reg cl) {
        return shift("rol", 0, m, cl);
    }

    /** {@code ror r, count}. */
    public Assembler ror(Reg r, int count) {
        return shift("ror", 1, r, count);
    }

    /** {@code ror [mem], count}. */
    public Assembler ror(Mem m, int count) {
        return shift("ror", 1, m, count);
    }

    /** {@code ror r, cl}. */
    public Assembler ror(Reg r, Reg cl) {
        return shift("ror", 1, r, cl);
    }

    /** {@code ror [mem], cl}. */
    public Assembler ror(Mem m, Reg cl) {
        return shift("ror", 1, m, cl);
    }

    /** {@code rcl r, count}. */
    public Assembler rcl(Reg r, int count) {
        return shift("rcl", 2, r, count);
    }

    /** {@code rcl [mem], count}. */
    public Assembler rcl(Mem m, int count) {
        return shift("rcl", 2, m, count);
    }

    /** {@code rcl r, cl}. */
    public Assembler rcl(Reg r, Reg cl) {
        return shift("rcl", 2, r, cl);
    }

    /** {@code rcl [mem], cl}. */
    public Assembler rcl(Mem m, Reg cl) {
        return shift("rcl", 2, m, cl);
    }

    /** {@code rcr r, count}. */
    public Assembler rcr(Reg r, int count) {
        return shift("rcr", 3, r, count);
    }

    /** {@code rcr [mem], count}. */
    public Assembler rcr(Mem m, int count) {
        return shift("rcr", 3, m, count);
    }

    /** {@code rcr r, cl}. */
    public Assembler rcr(Reg r, Reg cl) {
        return shift("rcr", 3, r, cl);
    }

    /** {@code rcr [mem], cl}. */
    public Assembler rcr(Mem m, Reg cl) {
        return shift("rcr", 3, m, cl);
    }

    /** {@code shl r, count}. */
    public Assembler shl(Reg r, int count) {
        return shift("shl", 4, r, count);
    }

    /** {@code shl [mem], count}. */
    public Assembler shl(Mem m, int count) {
        return shift("shl", 4, m, count);
    }

    /** {@code shl r, cl}. */
    public Assembler shl(Reg r, Reg cl) {
        return shift("shl", 4, r, cl);
    }

    /** {@code shl [mem], cl}. */
    public Assembler shl(Mem m, Reg cl) {
        return shift("shl", 4, m, cl);
    }

    /** {@code shr r, count}. */
    public Assembler shr(Reg r, int count) {
        return shift("shr", 5, r, count);
    }

    /** {@code shr [mem], count}. */
    public Assembler shr(Mem m, int count) {
        return shift("shr", 5, m, count);
    }

    /** {@code shr r, cl}. */
    public Assembler shr(Reg r, Reg cl) {
        return shift("shr", 5, r, cl);
    }

    /** {@code shr [mem], cl}. */
    public Assembler shr(Mem m, Reg cl) {
        return shift("shr", 5, m, cl);
    }

    /** {@code sar r, count}. */
    public Assembler sar(Reg r, int count) {
        return shift("sar", 7, r, count);
    }

    /** {@code sar [mem], count}. */
    public Assembler sar(Mem m, int count) {
        return shift("sar", 7, m, count);
    }

    /** {@code sar r, cl}. */
    public Assembler sar(Reg r, Reg cl) {
        return shift("sar", 7, r, cl);
    }

    /** {@code sar [mem], cl}. */
    public Assembler sar(Mem m, Reg cl) {
        return shift("sar", 7, m, cl);
    }

    /** {@code bt r, bitReg}. */
    public Assembler bt(Reg r, Reg bit) {
        return bitTest("bt", 0xA3, r, bit);
    }

    /** {@code bt [mem], bitReg}. */
    public Assembler bt(Mem m, Reg bit) {
        return bitTest("bt", 0xA3, m, bit);
    }

    /** {@code bt r, imm8}. */
    public Assembler bt(Reg r, int bit) {
        return bitTest("bt", 4, r, bit);
    }

    /** {@code bt [mem], imm8}. */
    public Assembler bt(Mem m, int bit) {
        return bitTest("bt", 4, m, bit);
    }

    /** {@code bts r, bitReg}. */
    public Assembler bts(Reg r, Reg bit) {
        return bitTest("bts", 0xAB, r, bit);
    }

    /** {@code bts [mem], bitReg} (lockable). */
    public Assembler bts(Mem m, Reg bit) {
        return bitTest("bts", 0xAB, m, bit);
    }

    /** {@code bts r, imm8}. */
    public Assembler bts(Reg r, int bit) {
        return bitTest("bts", 5, r, bit);
    }

    /** {@code bts [mem], imm8} (lockable). */
    public Assembler bts(Mem m, int bit) {
        return bitTest("bts", 5, m, bit);
    }

    /** {@code btr r, bitReg}. */
    public Assembler btr(Reg r, Reg bit) {
        return bitTest("btr", 0xB3, r, bit);
    }

    /** {@code btr [mem], bitReg} (lockable). */
    public Assembler btr(Mem m, Reg bit) {
        return bitTest("btr", 0xB3, m, bit);
    }

    /** {@code btr r, imm8}. */
    public Assembler btr(Reg r, int bit) {
        return bitTest("btr", 6, r, bit);
    }

    /** {@code btr [mem], imm8} (lockable). */
    public Assembler btr(Mem m, int bit) {
        return bitTest("btr", 6, m, bit);
    }

    /** {@code btc r, bitReg}. */
    public Assembler btc(Reg r, Reg bit) {
        return bitTest("btc", 0xBB, r, bit);
    }

    /** {@code btc [mem], bitReg} (lockable). */
    public Assembler btc(Mem m, Reg bit) {
        return bitTest("btc", 0xBB, m, bit);
    }

    /** {@code btc r, imm8}. */
    public Assembler btc(Reg r, int bit) {
        return bitTest("btc", 7, r, bit);
    }

    /** {@code btc [mem], imm8} (lockable). */
    public Assembler btc(Mem m, int bit) {
        return bitTest("btc", 7, m, bit);
    }

    // ---------------------------------------------------------------- conditions

    /** {@code setcc r8}. */
    public Assembler setcc(Cond c, Reg r) {
        InstructionEncoder e = enc("set" + c, r);
        if (r.bits() != 8) {
            throw e.error("setcc writes an 8-bit register: use " + (r.isHighByte() ? r : r.withBits(8)));
        }
        return emit(e.opcode(0x0F, 0x90 + c.code()).regField(0).rm(r));
    }

    /** {@code setcc byte ptr [mem]}. */
    public Assembler setcc(Cond c, Mem m) {
        InstructionEncoder e = enc("set" + c, m);
        checkSizeIn(e, m, 8);
        return emit(e.opcode(0x0F, 0x90 + c.code()).regField(0).rm(m));
    }

    /** {@code cmovcc dst, src}. */
    public Assembler cmovcc(Cond c, Reg dst, Reg src) {
        int bits = sameWidth("cmov" + c, dst, src);
        InstructionEncoder e = enc("cmov" + c, dst, src);
        noByte(e, bits);
        return emit(e.operandSize(bits).opcode(0x0F, 0x40 + c.code()).reg(dst).rm(src));
    }

    /** {@code cmovcc dst, [mem]}. */
    public Assembler cmovcc(Cond c, Reg dst, Mem src) {
        int bits = matchWidth("cmov" + c, dst, src);
        InstructionEncoder e = enc("cmov" + c, dst, src);
        noByte(e, bits);
        return emit(e.operandSize(bits).opcode(0x0F, 0x40 + c.code()).reg(dst).rm(src));
    }

    // ---------------------------------------------------------------- control transfer

    /** {@code jcc label}: short or near, chosen at layout. */
    public Assembler jcc(Cond c, Label target) {
        noPendingPrefix("j" + c);
        current.add(new Fragment.Branch(c, target, mode));
        return this;
    }

    /** {@code jmp label}: short or near, chosen at layout. */
    public Assembler jmp(Label target) {
        noPendingPrefix("jmp");
        current.add(new Fragment.Branch(null, target, mode));
        return this;
    }

    /** {@code jmp r} (indirect near; a 64-bit register in long mode). */
    public Assembler jmp(Reg r) {
        return indirect("jmp", 4, r);
    }

    /** {@code jmp [mem]} (indirect near). */
    public Assembler jmp(Mem m) {
        return indirect("jmp", 4, m);
    }

    /** {@code call label} (E8 rel16/rel32). */
    public Assembler call(Label target) {
        InstructionEncoder e = enc("call", target).opcode(0xE8);
        if (mode == Mode.REAL16) {
            return emit(e.immLabel(target, -2, Relocation.Kind.PC16));
        }
        return emit(e.immLabel(target, -4, Relocation.Kind.PC32));
    }

    /** {@code call r} (indirect near). */
    public Assembler call(Reg r) {
        return indirect("call", 2, r);
    }

    /** {@code call [mem]} (indirect near). */
    public Assembler call(Mem m) {
        return indirect("call", 2, m);
    }

    /** {@code ret}. */
    public Assembler ret() {
        return emit(enc("ret").opcode(0xC3));
    }

    /** {@code ret imm16}: returns and pops {@code bytes} of arguments. */
    public Assembler ret(int bytes) {
        InstructionEncoder e = enc("ret", bytes);
        return emit(e.opcode(0xC2).imm(immediate(e, bytes, 16), 2));
    }

    /** {@code retf} (far return with the mode's default operand size). */
    public Assembler retf() {
        return emit(enc("retf").opcode(0xCB));
    }

    /** {@code retfq} / {@code lretq}: pops RIP and CS as 64-bit slots (reloads CS in long mode). */
    public Assembler retfq() {
        return emit(enc("retfq").operandSize(64).opcode(0xCB));
    }

    /** {@code ljmp selector:offset} with the mode's default offset size (not in 64-bit mode). */
    public Assembler jmpFar(int selector, long offset) {
        return far("ljmp", 0xEA, selector, offset, null, mode.defaultOperandBits());
    }

    /** {@code ljmp selector:offset} with an explicit offset size (16 or 32 bits). */
    public Assembler jmpFar(int selector, long offset, int offsetBits) {
        return far("ljmp", 0xEA, selector, offset, null, offsetBits);
    }

    /**
     * {@code ljmp selector:label} with an explicit offset size: 32 from 16-bit code gives the
     * {@code jmp dword sel:label} that completes a switch to 32-bit protected mode.
     */
    public Assembler jmpFar(int selector, Label target, int offsetBits) {
        return far("ljmp", 0xEA, selector, 0, target, offsetBits);
    }

    /** {@code lcall selector:offset} (not in 64-bit mode). */
    public Assembler callFar(int selector, long offset) {
        return far("lcall", 0x9A, selector, offset, null, mode.defaultOperandBits());
    }

    /** {@code jmp far [mem]}: the operand size picks m16:16 (32), m16:32 (48) or m16:64 (80). */
    public Assembler jmpFar(Mem pointer) {
        return farIndirect("ljmp", 5, pointer);
    }

    /** {@code call far [mem]}. */
    public Assembler callFar(Mem pointer) {
        return farIndirect("lcall", 3, pointer);
    }

    /** {@code int n}; {@code int 3} becomes the one-byte CC, as GNU as emits it. */
    public Assembler intN(int vector) {
        InstructionEncoder e = enc("int", vector);
        if (vector == 3) {
            return emit(e.opcode(0xCC));
        }
        return emit(e.opcode(0xCD).imm(immediate(e, vector, 8), 1));
    }

    /** {@code int3} (CC, the breakpoint trap). */
    public Assembler int3() {
        return emit(enc("int3").opcode(0xCC));
    }

    /** {@code iret} with the mode's default operand size (iretw in 16-bit, iretd otherwise). */
    public Assembler iret() {
        return emit(enc("iret").opcode(0xCF));
    }

    /** {@code iretq} (64-bit frame). */
    public Assembler iretq() {
        return emit(enc("iretq").operandSize(64).opcode(0xCF));
    }

    /** {@code syscall}. */
    public Assembler syscall() {
        return emit(enc("syscall").opcode(0x0F, 0x05));
    }

    /** {@code sysretq}: returns to 64-bit user code. */
    public Assembler sysretq() {
        return emit(enc("sysretq").operandSize(64).opcode(0x0F, 0x07));
    }

    /** {@code sysret} without REX.W: returns to 32-bit compatibility-mode code. */
    public Assembler sysret() {
        return emit(enc("sysret").opcode(0x0F, 0x07));
    }

    // ---------------------------------------------------------------- stack

    /** {@code push r} (16-bit or the mode's stack width). */
    public Assembler push(Reg r) {
        InstructionEncoder e = enc("push", r);
        stackOperand(e, r.bits());
        return emit(e.opcodePlusReg(0x50, r));
    }

    /** {@code pop r}. */
    public Assembler pop(Reg r) {
        InstructionEncoder e = enc("pop", r);
        stackOperand(e, r.bits());
        return emit(e.opcodePlusReg(0x58, r));
    }

    /** {@code push [mem]}; an unsized operand takes the stack width. */
    public Assembler push(Mem m) {
        InstructionEncoder e = enc("push", m);
        stackOperand(e, m.bits() == 0 ? mode.stackBits() : m.bits());
        return emit(e.opcode(0xFF).regField(6).rm(m));
    }

    /** {@code pop [mem]}. */
    public Assembler pop(Mem m) {
        InstructionEncoder e = enc("pop", m);
        stackOperand(e, m.bits() == 0 ? mode.stackBits() : m.bits());
        return emit(e.opcode(0x8F).regField(0).rm(m));
    }

    /** {@code push imm} (6A ib or 68 iz, sign-extended to the stack width). */
    public Assembler push(long imm) {
        InstructionEncoder e = enc("push", imm);
        int bits = mode.stackBits();
        long v = immediate(e, imm, bits);
        if (InstructionEncoder.fitsInt8(v)) {
            return emit(e.opcode(0x6A).imm(v, 1));
        }
        return emit(e.opcode(0x68).imm(v, immBytes(bits)));
    }

    /** {@code push sreg} (only FS/GS in 64-bit mode). */
    public Assembler push(SegReg s) {
        InstructionEncoder e = enc("push", s);
        return emit(switch (s) {
            case FS -> e.opcode(0x0F, 0xA0);
            case GS -> e.opcode(0x0F, 0xA8);
            default -> {
                legacySegmentStackOp(e, s);
                yield e.opcode(switch (s) {
                    case ES -> 0x06;
                    case CS -> 0x0E;
                    case SS -> 0x16;
                    default -> 0x1E;
                });
            }
        });
    }

    /** {@code pop sreg} (only FS/GS in 64-bit mode; never CS). */
    public Assembler pop(SegReg s) {
        InstructionEncoder e = enc("pop", s);
        checkNotCs(e, s);
        return emit(switch (s) {
            case FS -> e.opcode(0x0F, 0xA1);
            case GS -> e.opcode(0x0F, 0xA9);
            default -> {
                legacySegmentStackOp(e, s);
                yield e.opcode(switch (s) {
                    case ES -> 0x07;
                    case SS -> 0x17;
                    default -> 0x1F;
                });
            }
        });
    }

    /** {@code pushf} / {@code pushfd} / {@code pushfq}: flags at the mode's stack width. */
    public Assembler pushf() {
        return emit(enc("pushf").opcode(0x9C));
    }

    /** {@code popf} / {@code popfd} / {@code popfq}. */
    public Assembler popf() {
        return emit(enc("popf").opcode(0x9D));
    }

    /** {@code pusha} / {@code pushad} (not in 64-bit mode). */
    public Assembler pusha() {
        InstructionEncoder e = enc("pusha");
        notInLongMode(e);
        return emit(e.opcode(0x60));
    }

    /** {@code popa} / {@code popad} (not in 64-bit mode). */
    public Assembler popa() {
        InstructionEncoder e = enc("popa");
        notInLongMode(e);
        return emit(e.opcode(0x61));
    }

    /** {@code leave}. */
    public Assembler leave() {
        return emit(enc("leave").opcode(0xC9));
    }

    // ---------------------------------------------------------------- atomics

    /** {@code cmpxchg dst, src} (compares with the accumulator). */
    public Assembler cmpxchg(Reg dst, Reg src) {
        int bits = sameWidth("cmpxchg", dst, src);
        return emit(enc("cmpxchg", dst, src).operandSize(bits).opcode(0x0F, bits == 8 ? 0xB0 : 0xB1).reg(src).rm(dst));
    }

    /** {@code cmpxchg [mem], src} (lockable). */
    public Assembler cmpxchg(Mem dst, Reg src) {
        int bits = matchWidth("cmpxchg", src, dst);
        return emit(enc("cmpxchg", dst, src).allowLock().operandSize(bits).opcode(0x0F, bits == 8 ? 0xB0 : 0xB1).reg(src).rm(dst));
    }

    /** {@code xadd dst, src}. */
    public Assembler xadd(Reg dst, Reg src) {
        int bits = sameWidth("xadd", dst, src);
        return emit(enc("xadd", dst, src).operandSize(bits).opcode(0x0F, bits == 8 ? 0xC0 : 0xC1).reg(src).rm(dst));
    }

    /** {@code xadd [mem], src} (lockable). */
    public Assembler xadd(Mem dst, Reg src) {
        int bits = matchWidth("xadd", src, dst);
        return emit(enc("xadd", dst, src).allowLock().operandSize(bits).opcode(0x0F, bits == 8 ? 0xC0 : 0xC1).reg(src).rm(dst));
    }

    // ---------------------------------------------------------------- I/O ports

    /** {@code in al/ax/eax, imm8}. */
    public Assembler in(Reg acc, int port) {
        InstructionEncoder e = enc("in", acc, port);
        accumulator(e, acc);
        return emit(e.operandSize(acc.bits()).opcode(acc.bits() == 8 ? 0xE4 : 0xE5).imm(port8(e, port), 1));
    }

    /** {@code in al/ax/eax, dx}. */
    public Assembler in(Reg acc, Reg dx) {
        InstructionEncoder e = enc("in", acc, dx);
        accumulator(e, acc);
        portInDx(e, dx);
        return emit(e.operandSize(acc.bits()).opcode(acc.bits() == 8 ? 0xEC : 0xED));
    }

    /** {@code out imm8, al/ax/eax}. */
    public Assembler out(int port, Reg acc) {
        InstructionEncoder e = enc("out", port, acc);
        accumulator(e, acc);
        return emit(e.operandSize(acc.bits()).opcode(acc.bits() == 8 ? 0xE6 : 0xE7).imm(port8(e, port), 1));
    }

    /** {@code out dx, al/ax/eax}. */
    public Assembler out(Reg dx, Reg acc) {
        InstructionEncoder e = enc("out", dx, acc);
        accumulator(e, acc);
        portInDx(e, dx);
        return emit(e.operandSize(acc.bits()).opcode(acc.bits() == 8 ? 0xEE : 0xEF));
    }

    // ---------------------------------------------------------------- string instructions

    /** {@code movsb} (prefix with {@link #rep()}). */
    public Assembler movsb() {
        return string("movsb", 0xA4, 8);
    }

    /** {@code movsw}. */
    public Assembler movsw() {
        return string("movsw", 0xA5, 16);
    }

    /** {@code movsd} (the string move, not the SSE instruction). */
    public Assembler movsd() {
        return string("movsd", 0xA5, 32);
    }

    /** {@code movsq}. */
    public Assembler movsq() {
        return string("movsq", 0xA5, 64);
    }

    /** {@code stosb}. */
    public Assembler stosb() {
        return string("stosb", 0xAA, 8);
    }

    /** {@code stosw}. */
    public Assembler stosw() {
        return string("stosw", 0xAB, 16);
    }

    /** {@code stosd}. */
    public Assembler stosd() {
        return string("stosd", 0xAB, 32);
    }

    /** {@code stosq}. */
    public Assembler stosq() {
        return string("stosq", 0xAB, 64);
    }

    /** {@code lodsb}. */
    public Assembler lodsb() {
        return string("lodsb", 0xAC, 8);
    }

    /** {@code lodsw}. */
    public Assembler lodsw() {
        return string("lodsw", 0xAD, 16);
    }

    /** {@code lodsd}. */
    public Assembler lodsd() {
        return string("lodsd", 0xAD, 32);
    }

    /** {@code lodsq}. */
    public Assembler lodsq() {
        return string("lodsq", 0xAD, 64);
    }

    // ---------------------------------------------------------------- system instructions

    /** {@code cli}. */
    public Assembler cli() {
        return emit(enc("cli").opcode(0xFA));
    }

    /** {@code sti}. */
    public Assembler sti() {
        return emit(enc("sti").opcode(0xFB));
    }

    /** {@code hlt}. */
    public Assembler hlt() {
        return emit(enc("hlt").opcode(0xF4));
    }

    /** {@code pause} (F3 90, the spin-wait hint). */
    public Assembler pause() {
        return emit(enc("pause").opcode(0xF3, 0x90));
    }

    /**
     * {@code lgdt [mem]} (pseudo-descriptor: limit16 then base). In 16-bit code a 24-bit base is
     * loaded unless the operand is sized {@code .size(48)}, which adds the 0x66 prefix so all 32
     * base bits load (Intel SDM Vol. 2A LGDT) — what an AP trampoline needs for a GDT above 16 MiB.
     */
    public Assembler lgdt(Mem m) {
        return emit(descriptorTableLoad(enc("lgdt", m), m).opcode(0x0F, 0x01).regField(2).rm(m));
    }

    /** {@code lidt [mem]}; {@code .size(48)} in 16-bit code loads a 32-bit base as for {@link #lgdt}. */
    public Assembler lidt(Mem m) {
        return emit(descriptorTableLoad(enc("lidt", m), m).opcode(0x0F, 0x01).regField(3).rm(m));
    }

    private InstructionEncoder descriptorTableLoad(InstructionEncoder e, Mem m) {
        if (m.bits() == 48 && mode == Mode.REAL16) {
            e.operandSizePrefix();
        }
        return e;
    }

    /** {@code cld}: string instructions count upwards (the ABI's expected direction). */
    public Assembler cld() {
        return emit(enc("cld").opcode(0xFC));
    }

    /** {@code std}. */
    public Assembler std() {
        return emit(enc("std").opcode(0xFD));
    }

    /** {@code clc}. */
    public Assembler clc() {
        return emit(enc("clc").opcode(0xF8));
    }

    /** {@code stc}. */
    public Assembler stc() {
        return emit(enc("stc").opcode(0xF9));
    }

    /** {@code sgdt [mem]}. */
    public Assembler sgdt(Mem m) {
        return emit(enc("sgdt", m).opcode(0x0F, 0x01).regField(0).rm(m));
    }

    /** {@code sidt [mem]}. */
    public Assembler sidt(Mem m) {
        return emit(enc("sidt", m).opcode(0x0F, 0x01).regField(1).rm(m));
    }

    /** {@code ltr r16}: loads the task register. */
    public Assembler ltr(Reg selector) {
        InstructionEncoder e = enc("ltr", selector);
        if (selector.bits() != 16) {
            throw e.error("ltr takes a 16-bit selector register: use " + selector.withBits(16));
        }
        return emit(e.opcode(0x0F, 0x00).regField(3).rm(selector));
    }

    /** {@code ltr word ptr [mem]}. */
    public Assembler ltr(Mem selector) {
        InstructionEncoder e = enc("ltr", selector);
        checkSizeIn(e, selector, 16);
        return emit(e.opcode(0x0F, 0x00).regField(3).rm(selector));
    }

    /** {@code lldt r16}. */
    public Assembler lldt(Reg selector) {
        InstructionEncoder e = enc("lldt", selector);
        if (selector.bits() != 16) {
            throw e.error("lldt takes a 16-bit selector register: use " + selector.withBits(16));
        }
        return emit(e.opcode(0x0F, 0x00).regField(2).rm(selector));
    }

    /** {@code invlpg [mem]}. */
    public Assembler invlpg(Mem m) {
        return emit(enc("invlpg", m).opcode(0x0F, 0x01).regField(7).rm(m));
    }

    /** {@code rdmsr} (EDX:EAX = MSR[ECX]). */
    public Assembler rdmsr() {
        return emit(enc("rdmsr").opcode(0x0F, 0x32));
    }

    /** {@code wrmsr} (MSR[ECX] = EDX:EAX). */
    public Assembler wrmsr() {
        return emit(enc("wrmsr").opcode(0x0F, 0x30));
    }

    /** {@code cpuid}. */
    public Assembler cpuid() {
        return emit(enc("cpuid").opcode(0x0F, 0xA2));
    }

    /** {@code rdtsc}. */
    public Assembler rdtsc() {
        return emit(enc("rdtsc").opcode(0x0F, 0x31));
    }

    /** {@code rdtscp}. */
    public Assembler rdtscp() {
        return emit(enc("rdtscp").opcode(0x0F, 0x01, 0xF9));
    }

    /** {@code swapgs} (64-bit mode). */
    public Assembler swapgs() {
        InstructionEncoder e = enc("swapgs");
        if (mode != Mode.LONG64) {
            throw e.error("swapgs exists only in 64-bit mode");
        }
        return emit(e.opcode(0x0F, 0x01, 0xF8));
    }

    /** {@code mfence}. */
    public Assembler mfence() {
        return emit(enc("mfence").opcode(0x0F, 0xAE, 0xF0));
    }

    /** {@code lfence}. */
    public Assembler lfence() {
        return emit(enc("lfence").opcode(0x0F, 0xAE, 0xE8));
    }

    /** {@code sfence}. */
    public Assembler sfence() {
        return emit(enc("sfence").opcode(0x0F, 0xAE, 0xF8));
    }

    /** {@code ud2} (guaranteed invalid opcode). */
    public Assembler ud2() {
        return emit(enc("ud2").opcode(0x0F, 0x0B));
    }

    /** {@code clts}. */
    public Assembler clts() {
        return emit(enc("clts").opcode(0x0F, 0x06));
    }

    /** {@code wbinvd}. */
    public Assembler wbinvd() {
        return emit(enc("wbinvd").opcode(0x0F, 0x09));
    }

    /** {@code nop} (90). */
    public Assembler nop() {
        return nop(1);
    }

    /** One NOP instruction of {@code length} bytes (1..15), Intel SDM Vol. 2B NOP recommended forms. */
    public Assembler nop(int length) {
        noPendingPrefix("nop");
        current.openData().bytes.writeBytes(Nops.single(length, mode));
        return this;
    }

    // ---------------------------------------------------------------- directives

    /** Pads to a multiple of {@code bytes} (NOPs in code sections, zeros elsewhere); raises the section alignment. */
    public Assembler align(int bytes) {
        Section.checkPowerOfTwo(bytes);
        current.requireAlignment(bytes);
        current.add(new Fragment.Align(bytes, current.kind() == Section.Kind.CODE ? mode : null, 0));
        return this;
    }

    /** Pads to a multiple of {@code bytes} with {@code fill}. */
    public Assembler align(int bytes, int fill) {
        Section.checkPowerOfTwo(bytes);
        current.requireAlignment(bytes);
        current.add(new Fragment.Align(bytes, null, fill & 0xFF));
        return this;
    }

    /** Reserves {@code bytes} zero bytes (the only content allowed in bss). */
    public Assembler reserve(long bytes) {
        if (bytes < 0) {
            throw new AsmException("reserve(" + bytes + "): size must not be negative");
        }
        current.add(new Fragment.Reserve(bytes));
        return this;
    }

    /** Emits bytes (each value 0..255 or -128..127). */
    public Assembler db(int... values) {
        Fragment.Data d = data();
        for (int v : values) {
            checkDataRange(v, 8);
            d.bytes.write(v);
        }
        return this;
    }

    /** Emits raw bytes. */
    public Assembler db(byte[] values) {
        data().bytes.writeBytes(values);
        return this;
    }

    /** Emits 16-bit little-endian words. */
    public Assembler dw(int... values) {
        Fragment.Data d = data();
        for (int v : values) {
            checkDataRange(v, 16);
            d.bytes.write(v);
            d.bytes.write(v >>> 8);
        }
        return this;
    }

    /** Emits 32-bit little-endian doublewords. */
    public Assembler dd(long... values) {
        Fragment.Data d = data();
        for (long v : values) {
            checkDataRange(v, 32);
            for (int i = 0; i < 4; i++) {
                d.bytes.write((int) (v >>> (8 * i)));
            }
        }
        return this;
    }

    /** Emits 64-bit little-endian quadwords. */
    public Assembler dq(long... values) {
        Fragment.Data d = data();
        for (long v : values) {
            for (int i = 0; i < 8; i++) {
                d.bytes.write((int) (v >>> (8 * i)));
            }
        }
        return this;
    }

    /** Emits the 16-bit absolute address of {@code target} (+ addend). */
    public Assembler dw(Label target, long addend) {
        return dataLabel(target, addend, Relocation.Kind.ABS16);
    }

    /** Emits the 32-bit absolute address of {@code target}. */
    public Assembler dd(Label target) {
        return dataLabel(target, 0, Relocation.Kind.ABS32);
    }

    /** Emits the 32-bit absolute address of {@code target} + {@code addend}. */
    public Assembler dd(Label target, long addend) {
        return dataLabel(target, addend, Relocation.Kind.ABS32);
    }

    /** Emits the 64-bit absolute address of {@code target}. */
    public Assembler dq(Label target) {
        return dataLabel(target, 0, Relocation.Kind.ABS64);
    }

    /** Emits the 64-bit absolute address of {@code target} + {@code addend}. */
    public Assembler dq(Label target, long addend) {
        return dataLabel(target, addend, Relocation.Kind.ABS64);
    }

    /** Emits a string's UTF-8 bytes, no terminator. */
    public Assembler ascii(String s) {
        return db(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Emits a string's UTF-8 bytes followed by a zero byte. */
    public Assembler asciz(String s) {
        return ascii(s).db(0);
    }

    // ---------------------------------------------------------------- internals

    private InstructionEncoder enc(String mnemonic, Object... operands) {
        InstructionEncoder e = new InstructionEncoder(mode, mnemonic, operands);
        if (lockNext) {
            e.requestLock();
        }
        if (repNext >= 0) {
            e.rep(repNext);
        }
        lockNext = false;
        repNext = -1;
        return e;
    }

    private Assembler emit(InstructionEncoder e) {
        InstructionEncoder.Encoded encoded = e.encode();
        Fragment.Data d = current.openData();
        int base = d.bytes.size();
        d.bytes.writeBytes(encoded.bytes());
        for (Fixup f : encoded.fixups()) {
            d.fixups.add(f.shifted(base));
        }
        return this;
    }

    private Fragment.Data data() {
        noPendingPrefix("data");
        return current.openData();
    }

    private Assembler dataLabel(Label target, long addend, Relocation.Kind kind) {
        Fragment.Data d = data();
        d.fixups.add(new Fixup(d.bytes.size(), kind, target, addend));
        d.bytes.writeBytes(new byte[kind.width()]);
        return this;
    }

    private void noPendingPrefix(String what) {
        if (lockNext || repNext >= 0) {
            lockNext = false;
            repNext = -1;
            throw new AsmException("lock/rep prefix cannot precede " + what + ": put it right before the instruction it modifies");
        }
    }

    private Assembler alu(String mn, int ext, Reg dst, Reg src) {
        int bits = sameWidth(mn, dst, src);
        return emit(enc(mn, dst, src).operandSize(bits).opcode(ext * 8 + (bits == 8 ? 0 : 1)).reg(src).rm(dst));
    }

    private Assembler alu(String mn, int ext, Reg dst, Mem src) {
        int bits = matchWidth(mn, dst, src);
        return emit(enc(mn, dst, src).operandSize(bits).opcode(ext * 8 + (bits == 8 ? 2 : 3)).reg(dst).rm(src));
    }

    private Assembler alu(String mn, int ext, Mem dst, Reg src) {
        int bits = matchWidth(mn, src, dst);
        InstructionEncoder e = enc(mn, dst, src);
        if (ext != 7) {
            e.allowLock();
        }
        return emit(e.operandSize(bits).opcode(ext * 8 + (bits == 8 ? 0 : 1)).reg(src).rm(dst));
    }

    private Assembler alu(String mn, int ext, Reg dst, long imm) {
        InstructionEncoder e = enc(mn, dst, imm);
        int bits = dst.bits();
        long v = immediate(e, imm, bits);
        e.operandSize(bits);
        if (bits == 8) {
            if (dst == Reg.AL) {
                return emit(e.opcode(ext * 8 + 4).imm(v, 1));
            }
            return emit(e.opcode(0x80).regField(ext).rm(dst).imm(v, 1));
        }
        if (InstructionEncoder.fitsInt8(v)) {
            return emit(e.opcode(0x83).regField(ext).rm(dst).imm(v, 1));
        }
        if (dst.code() == 0) {
            return emit(e.opcode(ext * 8 + 5).imm(v, immBytes(bits)));
        }
        return emit(e.opcode(0x81).regField(ext).rm(dst).imm(v, immBytes(bits)));
    }

    private Assembler alu(String mn, int ext, Mem dst, long imm) {
        InstructionEncoder e = enc(mn, dst, imm);
        if (ext != 7) {
            e.allowLock();
        }
        int bits = sizeOf(e, dst);
        long v = immediate(e, imm, bits);
        e.operandSize(bits);
        if (bits == 8) {
            return emit(e.opcode(0x80).regField(ext).rm(dst).imm(v, 1));
        }
        if (InstructionEncoder.fitsInt8(v)) {
            return emit(e.opcode(0x83).regField(ext).rm(dst).imm(v, 1));
        }
        return emit(e.opcode(0x81).regField(ext).rm(dst).imm(v, immBytes(bits)));
    }

    private Assembler incDec(String mn, int ext, Reg r) {
        InstructionEncoder e = enc(mn, r).operandSize(r.bits());
        if (mode != Mode.LONG64 && r.bits() != 8) {
            return emit(e.opcodePlusReg(0x40 + ext * 8, r));
        }
        return emit(e.opcode(r.bits() == 8 ? 0xFE : 0xFF).regField(ext).rm(r));
    }

    private Assembler unary(String mn, int opcode8, int ext, Reg r) {
        int bits = r.bits();
        return emit(enc(mn, r).operandSize(bits).opcode(bits == 8 ? opcode8 : opcode8 + 1).regField(ext).rm(r));
    }

    private Assembler unary(String mn, int opcode8, int ext, Mem m, boolean lockable) {
        InstructionEncoder e = enc(mn, m);
        if (lockable) {
            e.allowLock();
        }
        int bits = sizeOf(e, m);
        return emit(e.operandSize(bits).opcode(bits == 8 ? opcode8 : opcode8 + 1).regField(ext).rm(m));
    }

    private Assembler shift(String mn, int ext, Reg r, int count) {
        InstructionEncoder e = enc(mn, r, count);
        int bits = r.bits();
        e.operandSize(bits).regField(ext).rm(r);
        return emit(shiftCount(e, bits, count));
    }

    private Assembler shift(String mn, int ext, Mem m, int count) {
        InstructionEncoder e = enc(mn, m, count);
        int bits = sizeOf(e, m);
        e.operandSize(bits).regField(ext).rm(m);
        return emit(shiftCount(e, bits, count));
    }

    private InstructionEncoder shiftCount(InstructionEncoder e, int bits, int count) {
        if (count == 1) {
            return e.opcode(bits == 8 ? 0xD0 : 0xD1);
        }
        return e.opcode(bits == 8 ? 0xC0 : 0xC1).imm(immediate(e, count, 8), 1);
    }

    private Assembler shift(String mn, int ext, Reg r, Reg cl) {
        InstructionEncoder e = enc(mn, r, cl);
        requireCl(e, cl);
        int bits = r.bits();
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xD2 : 0xD3).regField(ext).rm(r));
    }

    private Assembler shift(String mn, int ext, Mem m, Reg cl) {
        InstructionEncoder e = enc(mn, m, cl);
        requireCl(e, cl);
        int bits = sizeOf(e, m);
        return emit(e.operandSize(bits).opcode(bits == 8 ? 0xD2 : 0xD3).regField(ext).rm(m));
    }

    private static void requireCl(InstructionEncoder e, Reg cl) {
        if (cl != Reg.CL) {
            throw e.error("a variable shift count must be in CL");
        }
    }

    private Assembler bitTest(String mn, int opcode, Reg r, Reg bit) {
        int bits = sameWidth(mn, r, bit);
        InstructionEncoder e = enc(mn, r, bit);
        noByte(e, bits);
        return emit(e.operandSize(bits).opcode(0x0F, opcode).reg(bit).rm(r));
    }

    private Assembler bitTest(String mn, int opcode, Mem m, Reg bit) {
        int bits = matchWidth(mn, bit, m);
        InstructionEncoder e = enc(mn, m, bit);
        noByte(e, bits);
        if (opcode != 0xA3) {
            e.allowLock();
        }
        return emit(e.operandSize(bits).opcode(0x0F, opcode).reg(bit).rm(m));
    }

    private Assembler bitTest(String mn, int ext, Reg r, int bit) {
        InstructionEncoder e = enc(mn, r, bit);
        noByte(e, r.bits());
        return emit(e.operandSize(r.bits()).opcode(0x0F, 0xBA).regField(ext).rm(r).imm(immediate(e, bit, 8), 1));
    }

    private Assembler bitTest(String mn, int ext, Mem m, int bit) {
        InstructionEncoder e = enc(mn, m, bit);
        int bits = sizeOf(e, m);
        noByte(e, bits);
        if (ext != 4) {
            e.allowLock();
        }
        return emit(e.operandSize(bits).opcode(0x0F, 0xBA).regField(ext).rm(m).imm(immediate(e, bit, 8), 1));
    }

    private Assembler extend(String mn, int opcode8, Reg dst, Object src, int srcBits) {
        InstructionEncoder e = enc(mn, dst, src);
        if (srcBits == 0) {
            throw e.error("source size unknown: give the memory operand a size with .m8() or .m16()");
        }
        if (srcBits != 8 && srcBits != 16) {
            throw e.error(mn + " extends an 8- or 16-bit source" + (srcBits == 32 && mn.equals("movsx") ? ": use movsxd" : ""));
        }
        if (dst.bits() <= srcBits) {
            throw e.error(mn + " needs a destination wider than its source");
        }
        e.operandSize(dst.bits()).opcode(0x0F, srcBits == 8 ? opcode8 : opcode8 + 1).reg(dst);
        if (src instanceof Reg r) {
            e.rm(r);
        } else {
            e.rm((Mem) src);
        }
        return emit(e);
    }

    private Assembler indirect(String mn, int ext, Reg r) {
        InstructionEncoder e = enc(mn, r);
        nearPointer(e, r.bits());
        return emit(e.opcode(0xFF).regField(ext).rm(r));
    }

    private Assembler indirect(String mn, int ext, Mem m) {
        InstructionEncoder e = enc(mn, m);
        nearPointer(e, m.bits() == 0 ? mode.stackBits() : m.bits());
        return emit(e.opcode(0xFF).regField(ext).rm(m));
    }

    private void nearPointer(InstructionEncoder e, int bits) {
        if (mode == Mode.LONG64) {
            if (bits != 64) {
                throw e.error("indirect near branches take a 64-bit target in 64-bit mode");
            }
            return;
        }
        if (bits != 16 && bits != 32) {
            throw e.error("indirect near branches take a 16- or 32-bit target here");
        }
        e.operandSize(bits);
    }

    private Assembler far(String mn, int opcode, int selector, long offset, Label target, int offsetBits) {
        InstructionEncoder e = enc(mn, selector, target != null ? target : offset);
        notInLongMode(e);
        if (offsetBits != 16 && offsetBits != 32) {
            throw e.error("far pointer offsets are 16 or 32 bits");
        }
        e.operandSize(offsetBits).opcode(opcode);
        if (target != null) {
            e.immLabel(target, 0, offsetBits == 16 ? Relocation.Kind.ABS16 : Relocation.Kind.ABS32);
        } else {
            e.imm(immediate(e, offset, offsetBits), offsetBits / 8);
        }
        return emit(e.imm(immediate(e, selector, 16), 2));
    }

    private Assembler farIndirect(String mn, int ext, Mem pointer) {
        InstructionEncoder e = enc(mn, pointer);
        switch (pointer.bits()) {
            case 32 -> e.operandSize(16);
            case 48 -> e.operandSize(32);
            case 80 -> e.operandSize(64);
            case 0 -> {
            }
            default -> throw e.error("far pointer operands are m16:16 (size 32), m16:32 (48) or m16:64 (80)");
        }
        return emit(e.opcode(0xFF).regField(ext).rm(pointer));
    }

    private Assembler string(String mn, int opcode, int bits) {
        InstructionEncoder e = enc(mn).allowRep();
        return emit(e.operandSize(bits).opcode(opcode));
    }

    private void stackOperand(InstructionEncoder e, int bits) {
        if (bits == 16) {
            if (mode != Mode.REAL16) {
                e.operandSizePrefix();
            }
            return;
        }
        if (bits == mode.stackBits()) {
            return;
        }
        if (bits == 32 && mode == Mode.REAL16) {
            e.operandSizePrefix();
            return;
        }
        throw e.error("push/pop take 16-bit or " + mode.stackBits() + "-bit operands in " + mode);
    }

    private void legacySegmentStackOp(InstructionEncoder e, SegReg s) {
        if (mode == Mode.LONG64) {
            throw e.error("push/pop " + s + " is invalid in 64-bit mode (only fs and gs)");
        }
    }

    private void notInLongMode(InstructionEncoder e) {
        if (mode == Mode.LONG64) {
            throw e.error("this form is invalid in 64-bit mode");
        }
    }

    private static void accumulator(InstructionEncoder e, Reg acc) {
        if (acc != Reg.AL && acc != Reg.AX && acc != Reg.EAX) {
            throw e.error("port I/O goes through al, ax or eax");
        }
    }

    private static void portInDx(InstructionEncoder e, Reg dx) {
        if (dx != Reg.DX) {
            throw e.error("a variable port number must be in dx");
        }
    }

    private static long port8(InstructionEncoder e, int port) {
        if (port < 0 || port > 255) {
            throw e.error("immediate port " + port + " exceeds 255: load it into dx");
        }
        return port;
    }

    private static void checkNotCs(InstructionEncoder e, SegReg s) {
        if (s == SegReg.CS) {
            throw e.error("cs cannot be loaded this way: use a far jump or far return");
        }
    }

    private void checkControlRegisterOperand(InstructionEncoder e, Reg r) {
        int want = mode == Mode.LONG64 ? 64 : 32;
        if (r.bits() != want) {
            throw e.error("control registers move through " + want + "-bit registers in " + mode);
        }
    }

    private boolean isMoffsCandidate(Mem m) {
        return mode != Mode.LONG64 && m.base() == null && m.indexReg() == null && !m.isRipRelative();
    }

    private InstructionEncoder moffs(InstructionEncoder e, Mem m) {
        return e.displacementOnly(m);
    }

    private static int sameWidth(String mn, Reg a, Reg b) {
        if (a.bits() != b.bits()) {
            throw new AsmException("operand size mismatch in " + mn + " " + a + ", " + b
                    + ": use registers of the same width (e.g. " + a + ", " + b.withBits(a.bits()) + ")");
        }
        return a.bits();
    }

    private static int matchWidth(String mn, Reg r, Mem m) {
        if (m.bits() != 0 && m.bits() != r.bits()) {
            throw new AsmException("operand size mismatch in " + mn + " " + r + ", " + m
                    + ": the memory operand must be " + r.bits() + "-bit");
        }
        return r.bits();
    }

    private static int sizeOf(InstructionEncoder e, Mem m) {
        if (m.bits() == 0) {
            throw e.error("operand size unknown: give the memory operand a size with .m8()/.m16()/.m32()/.m64()");
        }
        if (m.bits() > 64) {
            throw e.error("a far-pointer-sized operand is not valid here");
        }
        return m.bits();
    }

    private static void checkSizeIn(InstructionEncoder e, Mem m, int bits) {
        if (m.bits() != 0 && m.bits() != bits) {
            throw e.error("the memory operand must be " + bits + "-bit");
        }
    }

    private static void noByte(InstructionEncoder e, int bits) {
        if (bits == 8) {
            throw e.error("this instruction has no 8-bit form");
        }
    }

    private static int immBytes(int bits) {
        return bits == 8 ? 1 : bits == 16 ? 2 : 4;
    }

    /** Checks {@code v} fits an immediate of the operand width and returns it sign-extended to that width. */
    private static long immediate(InstructionEncoder e, long v, int bits) {
        switch (bits) {
            case 8 -> {
                if (v < -128 || v > 0xFF) {
                    throw e.error("immediate " + v + " does not fit in 8 bits");
                }
                return (byte) v;
            }
            case 16 -> {
                if (v < Short.MIN_VALUE || v > 0xFFFF) {
                    throw e.error("immediate " + v + " does not fit in 16 bits");
                }
                return (short) v;
            }
            case 32 -> {
                if (v < Integer.MIN_VALUE || v > 0xFFFF_FFFFL) {
                    throw e.error("immediate " + v + " does not fit in 32 bits");
                }
                return (int) v;
            }
            default -> {
                if (!fitsInt32(v)) {
                    throw e.error("immediate 0x" + Long.toHexString(v)
                            + " does not fit in a sign-extended 32-bit field: load it with mov/movabs into a register first");
                }
                return v;
            }
        }
    }

    private static boolean fitsInt32(long v) {
        return v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
    }

    private static void checkDataRange(long v, int bits) {
        long min = -(1L << (bits - 1));
        long max = (1L << bits) - 1;
        if (v < min || v > max) {
            throw new AsmException("data value " + v + " does not fit in " + bits + " bits");
        }
    }
}
