package dev.jkvm.vmm.emulated.cpu;

import static dev.jkvm.vmm.emulated.cpu.BlockTranslator.CD_EXECUTOR;
import static dev.jkvm.vmm.emulated.cpu.BlockTranslator.CD_MMU;
import static dev.jkvm.vmm.emulated.cpu.BlockTranslator.CD_STATE;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.MethodTypeDesc;

/**
 * Bytecode for the hot instruction families with the Insn's fields folded as constants: exactly
 * the operations of {@link Executor}'s handlers for them (register and immediate ALU with lazy
 * flags kept pending in locals by {@link PendingFlags}, MOV/LEA/MOVZX loads and stores with a
 * 64-bit address, INC/DEC, TEST/CMP, IMUL, DIV/IDIV r64 whose dividend fits 64 bits, Jcc/JMP,
 * CMOVcc/SETcc, PUSH/POP/CALL/RET near; a final Jcc/JMP is the translator's) in 32- and 64-bit
 * operand sizes. Anything else, and any form with a byte or 16-bit operand (legacy high-byte
 * registers, merges), ADC/SBB and LOCK, is left to the interpreter's code: {@link #emit} returns
 * false.
 */
final class InlineEmitter {
    private static final long M32 = 0xFFFF_FFFFL;
    private static final MethodTypeDesc READ = MethodTypeDesc.of(CD_long, CD_int, CD_long, CD_int),
            WRITE = MethodTypeDesc.of(CD_void, CD_int, CD_long, CD_int, CD_long),
            PUSH = MethodTypeDesc.of(CD_void, CD_long, CD_int),
            POP = MethodTypeDesc.of(CD_long, CD_int);

    private static final java.lang.constant.ClassDesc CD_LONG = java.lang.constant.ClassDesc.of(Long.class.getName());
    private static final java.lang.constant.ClassDesc CD_OPS = java.lang.constant.ClassDesc.of(TranslatedOps.class.getName());
    private final BlockTranslator.Body body;
    private final CodeBuilder cob;

    InlineEmitter(BlockTranslator.Body body) {
        this.body = body;
        this.cob = body.cob;
    }

    /** Emits {@code in} (ending {@code end} bytes after the entry's start; class-data {@code index}); false when not inlined. */
    boolean emit(Insn in, long end, int index) {
        int h = in.handler;
        if (h >= Handler.ALU_RR64 && h < Handler.ALU_RR64 + 8) return aluReg(in, h - Handler.ALU_RR64, 8, true);
        if (h >= Handler.ALU_RR32 && h < Handler.ALU_RR32 + 8) return aluReg(in, h - Handler.ALU_RR32, 4, true);
        if (h >= Handler.ALU_RI64 && h < Handler.ALU_RI64 + 8) return aluReg(in, h - Handler.ALU_RI64, 8, false);
        if (h >= Handler.ALU_RI32 && h < Handler.ALU_RI32 + 8) return aluReg(in, h - Handler.ALU_RI32, 4, false);
        if (h >= Handler.ALU_GE && h < Handler.ALU_GE + 8) return aluGE(in, h - Handler.ALU_GE, end);
        if (h >= Handler.ALU_EI && h < Handler.ALU_EI + 8) return aluEI(in, h - Handler.ALU_EI, end);
        int size = in.size;
        boolean wide = size == 8 || size == 4;
        switch (h) {
            case Handler.MOV_RR64 -> { storeReg(in.dst, 8, () -> loadReg(in.src, 8)); return true; }
            case Handler.MOV_RR32 -> { storeReg(in.dst, 4, () -> loadReg(in.src, 4)); return true; }
            case Handler.MOV_RI64 -> { storeReg(in.dst, 8, () -> cob.loadConstant(in.imm)); return true; }
            case Handler.MOV_RI32 -> { storeReg(in.dst, 8, () -> cob.loadConstant(in.imm & M32)); return true; }
            case Handler.TEST_RR64, Handler.TEST_RR32 -> {
                int sz = h == Handler.TEST_RR64 ? 8 : 4;
                cob.aload(body.g).loadConstant(in.dst).laload().aload(body.g).loadConstant(in.src).laload().land();
                if (sz == 4) cob.loadConstant(M32).land();
                cob.lstore(body.r);
                record(Flags.LOGIC, -1, -1, sz);
                return true;
            }
            case Handler.MOV_LOAD64, Handler.MOV_LOAD32 -> {
                int sz = h == Handler.MOV_LOAD64 ? 8 : 4;
                storeReg(in.dst, 8, () -> read(in.segment, sz, () -> baseDisp(in)));
                return true;
            }
            case Handler.MOV_STORE64, Handler.MOV_STORE32 -> {
                int sz = h == Handler.MOV_STORE64 ? 8 : 4;
                write(in.segment, sz, () -> baseDisp(in), () -> loadReg(in.src, sz));
                return true;
            }
            case Handler.INC_R64, Handler.INC_R32, Handler.DEC_R64, Handler.DEC_R32 -> {
                int sz = h == Handler.INC_R64 || h == Handler.DEC_R64 ? 8 : 4;
                boolean inc = h == Handler.INC_R64 || h == Handler.INC_R32;
                loadReg(in.dst, sz);
                cob.lstore(body.a);
                cob.lload(body.a).lconst_1();
                if (inc) cob.ladd(); else cob.lsub();
                cob.lstore(body.r);
                body.flags.setIncDec(inc ? Flags.INC : Flags.DEC, body.a, body.r, sz);
                storeReg(in.dst, sz, () -> cob.lload(body.r));
                return true;
            }
            case Handler.NOP -> { cob.nop(); return true; }
            case Handler.CALL_REL -> {
                if (size != 8 || stackOf(in) != 8) return false;
                push(8, () -> cob.lload(BlockTranslator.Body.RIP).loadConstant(end).ladd());
                body.setRip(end + in.imm);
                return true;
            }
            case Handler.RET -> {
                if (size != 8 || in.imm != 0 || stackOf(in) != 8) return false;
                cob.aload(body.s);
                pop(8);
                cob.putfield(CD_STATE, "rip", CD_long);
                return true;
            }
            case Handler.PUSH_R -> {
                if (size != 8 || stackOf(in) != 8) return false;
                push(8, () -> loadReg(in.rm, 8));
                return true;
            }
            case Handler.POP_R -> {
                if (size != 8 || stackOf(in) != 8) return false;
                // The popped value is stored after RSP moved: POP RSP loads RSP (SDM Vol. 2B POP).
                storeReg(in.rm, 8, () -> pop(8));
                return true;
            }
            case Handler.MOV_GE -> {
                if (!wide) return false;
                if (in.mod == 3) storeReg(in.reg, size, () -> loadReg(in.rm, size));
                else if (in.addrSize == 8) storeReg(in.reg, size, () -> read(in.segment, size, () -> offset(in, end)));
                else return false;
                return true;
            }
            case Handler.MOV_EG -> {
                if (!wide) return false;
                if (in.mod == 3) storeReg(in.rm, size, () -> loadReg(in.reg, size));
                else if (in.addrSize == 8) write(in.segment, size, () -> offset(in, end), () -> loadReg(in.reg, size));
                else return false;
                return true;
            }
            case Handler.MOV_EI -> {
                if (!wide) return false;
                if (in.mod == 3) storeReg(in.rm, size, () -> cob.loadConstant(in.imm));
                else if (in.addrSize == 8) write(in.segment, size, () -> offset(in, end), () -> cob.loadConstant(in.imm));
                else return false;
                return true;
            }
            case Handler.LEA -> {
                if (!wide || in.addrSize != 8 || in.mod == 3) return false;
                storeReg(in.reg, size, () -> offset(in, end));
                return true;
            }
            case Handler.MOVZX -> {
                if (!wide) return false;
                int from = in.ext;
                if (in.mod == 3) {
                    if (from == 1 && in.rm >= 4 && in.rm < 8 && in.rex == 0) return false; // AH..BH
                    storeReg(in.reg, size, () -> cob.aload(body.g).loadConstant(in.rm).laload().loadConstant(Flags.mask(from)).land());
                } else if (in.addrSize == 8) {
                    storeReg(in.reg, size, () -> read(in.segment, from, () -> offset(in, end)));
                } else {
                    return false;
                }
                return true;
            }
            case Handler.TEST_EI -> {
                if (!wide || (in.mod != 3 && in.addrSize != 8)) return false;
                rm(in, size, end);
                cob.loadConstant(in.imm).land().lstore(body.r);
                record(Flags.LOGIC, -1, -1, size);
                return true;
            }
            case Handler.TEST_EG -> {
                if (!wide || (in.mod != 3 && in.addrSize != 8)) return false;
                rm(in, size, end);
                loadReg(in.reg, size);
                cob.land().lstore(body.r);
                record(Flags.LOGIC, -1, -1, size);
                return true;
            }
            case Handler.CMOV -> {
                if (!wide || (in.mod != 3 && in.addrSize != 8)) return false;
                // The source is read (and may fault) whatever the condition (SDM Vol. 2A CMOVcc).
                rm(in, size, end);
                cob.lstore(body.b);
                Label no = cob.newLabel(), done = cob.newLabel();
                body.flags.jumpUnless(in.ext, no);
                storeReg(in.reg, size, () -> cob.lload(body.b));
                cob.goto_(done);
                cob.labelBinding(no);
                if (size == 4) storeReg(in.reg, 4, () -> loadReg(in.reg, 4));
                cob.labelBinding(done);
                return true;
            }
            case Handler.SETCC -> {
                if (in.mod != 3 || (in.rm >= 4 && in.rm < 8 && in.rex == 0)) return false;
                Label no = cob.newLabel();
                cob.aload(body.g).loadConstant(in.rm).laload().loadConstant(~0xFFL).land().lstore(body.a);
                body.flags.jumpUnless(in.ext, no);
                cob.lload(body.a).lconst_1().lor().lstore(body.a);
                cob.labelBinding(no);
                storeReg(in.rm, 8, () -> cob.lload(body.a));
                return true;
            }
            case Handler.CWD -> {
                // CQO/CDQ: RDX/EDX = the sign of RAX/EAX (SDM Vol. 2A CWD/CDQ/CQO).
                if (size == 8) storeReg(CpuState.RDX, 8, () -> cob.aload(body.g).iconst_0().laload().loadConstant(63).lshr());
                else if (size == 4) storeReg(CpuState.RDX, 4, () -> cob.aload(body.g).iconst_0().laload().loadConstant(32).lshl().loadConstant(63).lshr());
                else return false;
                return true;
            }
            case Handler.IMUL_GE, Handler.IMUL_GEI -> {
                if (!wide || (in.mod != 3 && in.addrSize != 8)) return false;
                // imul2(in, reg, r/m) or imul2(in, r/m, imm): the product is the same either way round. The
                // flags as the interpreter records them: MUL with src = CF = OF = the product does not fit.
                rm(in, size, end);
                cob.lstore(body.b);
                if (h == Handler.IMUL_GE) loadReg(in.reg, size); else cob.loadConstant(in.imm);
                cob.lstore(body.a);
                if (size == 8) {
                    cob.lload(body.a).lload(body.b).lmul().lstore(body.r);
                    cob.lload(body.a).lload(body.b).invokestatic(CD_OPS, "overflow64", MethodTypeDesc.of(CD_long, CD_long, CD_long));
                } else {
                    cob.lload(body.a).l2i().i2l().lload(body.b).l2i().i2l().lmul().lstore(body.r);
                    cob.lload(body.r).invokestatic(CD_OPS, "overflow32", MethodTypeDesc.of(CD_long, CD_long));
                }
                cob.lstore(body.b);
                body.flags.set(Flags.MUL, -1, body.b, body.r, size);
                storeReg(in.reg, size, () -> cob.lload(body.r));
                return true;
            }
            case Handler.DIV, Handler.IDIV -> {
                Label slow = cob.newLabel(), done = cob.newLabel();
                if (size == 8 && in.mod == 3) divide64(in.rm, h == Handler.IDIV, slow, done);
                // The interpreter's handler called directly (no dispatch), RIP stored for a RIP-relative divisor.
                cob.labelBinding(slow);
                body.setRip(end);
                cob.aload(BlockTranslator.Body.EX);
                body.insn(index);
                cob.invokevirtual(CD_EXECUTOR, h == Handler.DIV ? "div" : "idiv", MethodTypeDesc.of(CD_void, BlockTranslator.CD_INSN));
                cob.labelBinding(done);
                return true;
            }
            default -> { return false; }
        }
    }

    /**
     * DIV/IDIV r64 when the dividend RDX:RAX fits 64 bits (RDX zero, or the sign of RAX after CQO):
     * the quotient to RAX and the remainder to RDX by Java's division, then to {@code done}; flags
     * unchanged (undefined, SDM Vol. 2A DIV/IDIV, as the interpreter). A zero divisor, a wider
     * dividend, and IDIV by -1 (whose only overflow, MIN_VALUE / -1, is #DE) go to {@code slow}.
     */
    private void divide64(int divisor, boolean signed, Label slow, Label done) {
        loadReg(divisor, 8);
        cob.lstore(body.b);
        cob.lload(body.b).lconst_0().lcmp().ifeq(slow);
        if (signed) cob.lload(body.b).loadConstant(-1L).lcmp().ifeq(slow);
        loadReg(CpuState.RAX, 8);
        cob.lstore(body.a);
        loadReg(CpuState.RDX, 8);
        if (signed) cob.lload(body.a).loadConstant(63).lshr(); else cob.lconst_0();
        cob.lcmp().ifne(slow);
        MethodTypeDesc unsigned = MethodTypeDesc.of(CD_long, CD_long, CD_long);
        storeReg(CpuState.RAX, 8, () -> {
            cob.lload(body.a).lload(body.b);
            if (signed) cob.ldiv(); else cob.invokestatic(CD_LONG, "divideUnsigned", unsigned);
        });
        storeReg(CpuState.RDX, 8, () -> {
            cob.lload(body.a).lload(body.b);
            if (signed) cob.lrem(); else cob.invokestatic(CD_LONG, "remainderUnsigned", unsigned);
        });
        cob.goto_(done);
    }

    // ------------------------------------------------------------------ flag liveness

    /**
     * Whether {@code b} overwrites all six arithmetic flags before anything may read them: its
     * first instructions are inlined forms that neither touch the flags nor can fault, then comes
     * an inlined register form that sets them all ({@link PendingFlags}: a jump to such a block
     * need not write the pending flags to {@link LazyFlags}). These predicates follow {@link #emit}'s
     * own conditions for inlining each form.
     */
    static boolean flagsDeadAtEntry(DecodedBlock b) {
        for (Insn in : b.insns) {
            if (setsAllFlags(in)) return true;
            if (!quiet(in)) return false;
        }
        return false;
    }

    /** The operation (0 ADD .. 7 CMP, the /digit of SDM Vol. 2 Table A-6 group 1) of an ALU handler of {@link #emit}'s ranges. */
    private static int aluOp(int h) {
        return h >= Handler.ALU_RR64 ? (h - Handler.ALU_RR64) & 7 : (h - Handler.ALU_GE) & 7;
    }

    /** An inlined form that cannot fault and neither reads nor writes the arithmetic flags. */
    private static boolean quiet(Insn in) {
        boolean wide = in.size == 8 || in.size == 4;
        return switch (in.handler) {
            case Handler.MOV_RR64, Handler.MOV_RR32, Handler.MOV_RI64, Handler.MOV_RI32, Handler.NOP -> true;
            case Handler.MOV_GE, Handler.MOV_EG, Handler.MOV_EI -> wide && in.mod == 3;
            case Handler.LEA -> wide && in.addrSize == 8 && in.mod != 3;
            case Handler.MOVZX -> wide && in.mod == 3 && !(in.ext == 1 && in.rm >= 4 && in.rm < 8 && in.rex == 0);
            case Handler.CWD -> wide;
            default -> false;
        };
    }

    /** An inlined register form (it cannot fault) that sets all six arithmetic flags. */
    private static boolean setsAllFlags(Insn in) {
        int h = in.handler;
        boolean wide = in.size == 8 || in.size == 4;
        if ((h >= Handler.ALU_RR64 && h < Handler.ALU_RR64 + 8) || (h >= Handler.ALU_RR32 && h < Handler.ALU_RR32 + 8)
                || (h >= Handler.ALU_RI64 && h < Handler.ALU_RI64 + 8) || (h >= Handler.ALU_RI32 && h < Handler.ALU_RI32 + 8)) {
            return inlinedOp(aluOp(h));
        }
        if ((h >= Handler.ALU_GE && h < Handler.ALU_GE + 8) || (h >= Handler.ALU_EI && h < Handler.ALU_EI + 8)) {
            return inlinedOp(aluOp(h)) && wide && in.mod == 3;
        }
        return switch (h) {
            case Handler.TEST_RR64, Handler.TEST_RR32 -> true;
            case Handler.TEST_EI, Handler.TEST_EG, Handler.IMUL_GE, Handler.IMUL_GEI -> wide && in.mod == 3;
            default -> false;
        };
    }

    // ------------------------------------------------------------------ ALU

    private static boolean inlinedOp(int op) {
        return op != 2 && op != 3; // ADC and SBB read CF: the interpreter's code
    }

    /** Pushes {@code a op b} (a and b in their locals); the flag record's operation. */
    private int operate(int op) {
        cob.lload(body.a).lload(body.b);
        switch (op) {
            case 0 -> { cob.ladd(); return Flags.ADD; }
            case 1 -> { cob.lor(); return Flags.LOGIC; }
            case 4 -> { cob.land(); return Flags.LOGIC; }
            case 6 -> { cob.lxor(); return Flags.LOGIC; }
            default -> { cob.lsub(); return Flags.SUB; }
        }
    }

    /** ALU_RR/ALU_RI: {@code dst op= src|imm}, as Executor.alu with the 32-bit operands masked. */
    private boolean aluReg(Insn in, int op, int size, boolean register) {
        if (!inlinedOp(op)) return false;
        loadReg(in.dst, size);
        cob.lstore(body.a);
        if (register) loadReg(in.src, size); else cob.loadConstant(in.imm);
        cob.lstore(body.b);
        int flags = operate(op);
        cob.lstore(body.r);
        record(flags, body.a, body.b, size);
        if (op != 7) storeReg(in.dst, size, () -> cob.lload(body.r));
        return true;
    }

    /** ALU_GE: {@code reg op= r/m}. */
    private boolean aluGE(Insn in, int op, long end) {
        int size = in.size;
        if (!inlinedOp(op) || (size != 8 && size != 4) || (in.mod != 3 && in.addrSize != 8)) return false;
        loadReg(in.reg, size);
        cob.lstore(body.a);
        rm(in, size, end);
        cob.lstore(body.b);
        int flags = operate(op);
        cob.lstore(body.r);
        record(flags, body.a, body.b, size);
        if (op != 7) storeReg(in.reg, size, () -> cob.lload(body.r));
        return true;
    }

    /** ALU_EI: {@code r/m op= imm}, memory only without LOCK (a locked one is atomic: the interpreter's code). */
    private boolean aluEI(Insn in, int op, long end) {
        int size = in.size;
        if (!inlinedOp(op) || (size != 8 && size != 4)) return false;
        if (in.mod == 3) {
            loadReg(in.rm, size);
        } else {
            if (in.addrSize != 8 || (in.prefixes & Insn.P_LOCK) != 0) return false;
            offset(in, end);
            cob.lstore(body.o);
            read(in.segment, size, () -> cob.lload(body.o));
        }
        cob.lstore(body.a);
        cob.loadConstant(in.imm).lstore(body.b);
        if (in.mod != 3 && op != 7) {
            // The result is stored, then the flags set: the store may fault, and a fault keeps the flags before.
            int flags = operate(op);
            cob.lstore(body.r);
            cob.aload(body.mmu).loadConstant(in.segment).lload(body.o).loadConstant(size).lload(body.r);
            cob.invokevirtual(CD_MMU, "write", WRITE);
            record(flags, body.a, body.b, size);
            return true;
        }
        int flags = operate(op);
        cob.lstore(body.r);
        record(flags, body.a, body.b, size);
        if (op != 7 && in.mod == 3) storeReg(in.rm, size, () -> cob.lload(body.r));
        return true;
    }

    /** The flags of {@code op} with a and b from their locals (-1: zero) and r from its local, pending ({@link PendingFlags}). */
    private void record(int op, int a, int b, int size) {
        body.flags.set(op, a, b, body.r, size);
    }

    // ------------------------------------------------------------------ operands

    /** Pushes register {@code reg} read at {@code size} (8 or 4). */
    private void loadReg(int reg, int size) {
        cob.aload(body.g).loadConstant(reg).laload();
        if (size == 4) cob.loadConstant(M32).land();
    }

    /** {@code g[reg] = value} at {@code size} (8, or 4 zero-extending, SDM Vol. 1 §3.4.1.1). */
    private void storeReg(int reg, int size, Runnable value) {
        cob.aload(body.g).loadConstant(reg);
        value.run();
        if (size == 4) cob.loadConstant(M32).land();
        cob.lastore();
    }

    /** Pushes the r/m operand at {@code size} (8 or 4): a register, or memory with a 64-bit address. */
    private void rm(Insn in, int size, long end) {
        if (in.mod == 3) loadReg(in.rm, size);
        else read(in.segment, size, () -> offset(in, end));
    }

    /** Pushes {@code g[base] + disp} (the MOV_LOAD/MOV_STORE forms: 64-bit address, no index). */
    private void baseDisp(Insn in) {
        cob.aload(body.g).loadConstant(in.base).laload();
        if (in.disp != 0) cob.loadConstant(in.disp).ladd();
    }

    /** Pushes the effective offset of a 64-bit-address memory operand (Operands.effectiveOffset; RIP-relative against the next instruction). */
    private void offset(Insn in, long end) {
        cob.loadConstant(in.disp);
        if (in.base == Insn.BASE_RIP) {
            cob.lload(BlockTranslator.Body.RIP).ladd();
            cob.loadConstant(end).ladd();
        } else if (in.base >= 0) {
            cob.aload(body.g).loadConstant(in.base).laload().ladd();
        }
        if (in.index >= 0) {
            cob.aload(body.g).loadConstant(in.index).laload();
            if (in.scale != 0) cob.loadConstant(in.scale).lshl();
            cob.ladd();
        }
    }

    private void read(int segment, int size, Runnable offset) {
        cob.aload(body.mmu).loadConstant(segment);
        offset.run();
        cob.loadConstant(size).invokevirtual(CD_MMU, "read", READ);
    }

    private void write(int segment, int size, Runnable offset, Runnable value) {
        cob.aload(body.mmu).loadConstant(segment);
        offset.run();
        cob.loadConstant(size);
        value.run();
        cob.invokevirtual(CD_MMU, "write", WRITE);
    }

    /** Stack address size the block runs with: only 64-bit code is translated, where it is always 8 (SDM Vol. 1 §6.2.3). */
    private static int stackOf(Insn in) {
        return in.mode == 8 ? 8 : 0;
    }

    private void push(int size, Runnable value) {
        cob.aload(BlockTranslator.Body.EX);
        value.run();
        cob.loadConstant(size).invokevirtual(CD_EXECUTOR, "push", PUSH);
    }

    private void pop(int size) {
        cob.aload(BlockTranslator.Body.EX).loadConstant(size).invokevirtual(CD_EXECUTOR, "pop", POP);
    }
}
