package dev.jkvm.vmm.emulated.cpu;

import static dev.jkvm.vmm.emulated.cpu.BlockTranslator.CD_FLAGS;
import static dev.jkvm.vmm.emulated.cpu.BlockTranslator.CD_FLAGS_OPS;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.MethodTypeDesc;

/**
 * The lazy flags of the last inlined flag-setting instruction of a translated region, kept in
 * Java locals (its operands and result, and the CF that INC/DEC keep) while its operation and
 * size are known at translation time, instead of being stored into the vCPU's {@link LazyFlags}
 * by every ALU instruction. A Jcc, CMOVcc or SETcc after CMP/SUB or a logic operation then compiles to one
 * comparison of locals. The {@link LazyFlags} fields are written ({@link #materialize}) only where
 * something else may read them: before the interpreter's code, at every return to the run loop, in
 * a fault's handler, and before a jump to a block of the region that may look at them before it
 * overwrites them all ({@link InlineEmitter#flagsDeadAtEntry}).
 *
 * <p>Invariant: at an instruction's start the locals hold the pending flags of that point; an
 * inlined instruction writes them only after its last access that may fault, so a handler that
 * materializes the state of its instruction's start sees exactly the interpreter's flags.
 */
final class PendingFlags {
    /** No pending flags: the {@link LazyFlags} fields are the current ones. */
    static final int NONE = -1;
    private static final MethodTypeDesc RECORD = MethodTypeDesc.of(CD_void, CD_FLAGS, CD_int, CD_long, CD_long, CD_long, CD_int),
            RECORD_CARRY = MethodTypeDesc.of(CD_void, CD_FLAGS, CD_int, CD_long, CD_long, CD_long, CD_int, CD_long),
            CF = MethodTypeDesc.of(CD_long, CD_FLAGS),
            CONDITION = MethodTypeDesc.of(CD_boolean, CD_FLAGS, CD_int);

    private final CodeBuilder cob;
    /** Locals: the LazyFlags reference, the pending operation's dst, src and result, and CF kept by INC/DEC. */
    private final int f, dst, src, result, carry;
    /** The pending operation (a {@link Flags} op) and its operand size at this point of the emission, or {@link #NONE}. */
    int op = NONE, size;

    PendingFlags(CodeBuilder cob, int f, int dst, int src, int result, int carry) {
        this.cob = cob;
        this.f = f;
        this.dst = dst;
        this.src = src;
        this.result = result;
        this.carry = carry;
    }

    /** Emits the zeroing of the locals at the method's entry (definitely assigned for every handler). */
    void init() {
        cob.lconst_0().lstore(dst).lconst_0().lstore(src).lconst_0().lstore(result).lconst_0().lstore(carry);
    }

    /** An inlined instruction set the flags: {@code op} of the longs in locals {@code a} and {@code b} (-1: zero) giving {@code r}. */
    void set(int op, int a, int b, int r, int size) {
        if (a < 0) cob.lconst_0(); else cob.lload(a);
        cob.lstore(dst);
        if (b < 0) cob.lconst_0(); else cob.lload(b);
        cob.lstore(src);
        cob.lload(r).lstore(result);
        this.op = op;
        this.size = size;
    }

    /**
     * INC or DEC ({@code op}) of the long in local {@code a} giving {@code r}: they keep CF (SDM
     * Vol. 2A INC, DEC), so the carry of the flags before is computed first, as
     * {@link Flags#recordIncDec} takes it from {@link Flags#cf}: from the locals after ADD, SUB,
     * a logic operation or IMUL, unchanged after INC/DEC, else from {@link LazyFlags}.
     */
    void setIncDec(int op, int a, int r, int size) {
        switch (this.op) {
            case Flags.INC, Flags.DEC -> { }
            case Flags.LOGIC -> cob.lconst_0().lstore(carry);
            case Flags.ADD, Flags.SUB -> {
                // ADD: the result below dst; SUB: dst below src (unsigned, at the operand size).
                int sh = 64 - (this.size << 3);
                operand(this.op == Flags.ADD ? result : dst, sh, true);
                operand(this.op == Flags.ADD ? dst : src, sh, true);
                cob.lcmp();
                bit(Less.LT);
            }
            case Flags.MUL -> {
                cob.lload(src).lconst_0().lcmp();
                bit(Less.NE);
            }
            default -> cob.aload(f).invokestatic(CD_FLAGS_OPS, "cf", CF).lstore(carry);
        }
        cob.lload(a).lstore(dst).lconst_1().lstore(src).lload(r).lstore(result);
        this.op = op;
        this.size = size;
    }

    /** The lcmp result on the stack: the carry local = 1 (CF) when {@code relation} holds of it, else 0. */
    private void bit(Less relation) {
        Label yes = cob.newLabel(), done = cob.newLabel();
        switch (relation) {
            case LT -> cob.iflt(yes);
            case LE -> cob.ifle(yes);
            case EQ -> cob.ifeq(yes);
            case NE -> cob.ifne(yes);
        }
        cob.lconst_0().goto_(done);
        cob.labelBinding(yes);
        cob.lconst_1();
        cob.labelBinding(done);
        cob.lstore(carry);
    }

    /** Writes the pending flags into {@link LazyFlags}; none are pending afterwards. */
    void materialize() {
        if (op != NONE) record(op, size);
        op = NONE;
    }

    /** Emits the {@link LazyFlags} write of pending state {@code op}/{@code size} (a path that leaves; the emission state is unchanged). */
    void record(int op, int size) {
        if (op == NONE) return;
        cob.aload(f).loadConstant(op).lload(dst).lload(src).lload(result).loadConstant(size);
        if (op == Flags.INC || op == Flags.DEC) cob.lload(carry).invokestatic(CD_FLAGS_OPS, "recordCarry", RECORD_CARRY);
        else cob.invokestatic(CD_FLAGS_OPS, "record", RECORD);
    }

    /**
     * Emits a jump to {@code target} taken when condition {@code cc} (SDM Vol. 1 Appendix B,
     * Table B-1) is false, as {@link Flags#condition}: from the locals when the pending operation
     * determines it by a comparison, else after materializing.
     */
    void jumpUnless(int cc, Label target) {
        boolean negated = (cc & 1) != 0;
        int sh = 64 - (size << 3);
        int test = cc >>> 1;
        if (op == Flags.SUB && (test == 1 || test == 3 || test == 6 || test == 7)) {
            // CMP/SUB: the comparison of the operands, shifted so the operand size's sign bit is on top
            // (signed order); unsigned order by flipping the sign bits.
            boolean unsigned = test == 1 || test == 3;
            operand(dst, sh, unsigned);
            operand(src, sh, unsigned);
            cob.lcmp();
            // cmp < 0 for B/L (below, less), cmp <= 0 for BE/LE.
            jump(test == 1 || test == 6 ? Less.LT : Less.LE, negated, target);
            return;
        }
        if (op != NONE && (test == 2 || test == 4 || (op == Flags.LOGIC && test != 5))) {
            // ZF and SF come from the result for every lazy operation; after a logic operation CF = OF = 0
            // (SDM Vol. 2A AND/OR/XOR/TEST, "Flags Affected"), so B and O are false, BE is ZF, L is SF, LE is ZF or SF.
            if (test == 0 || test == 1) {
                if (!negated) cob.goto_(target);
                return;
            }
            operand(result, sh, false);
            cob.lconst_0().lcmp();
            jump(test == 2 || test == 3 ? Less.EQ : test == 7 ? Less.LE : Less.LT, negated, target);
            return;
        }
        materialize();
        cob.aload(f).loadConstant(cc).invokestatic(CD_FLAGS_OPS, "condition", CONDITION).ifeq(target);
    }

    private enum Less { LT, LE, EQ, NE }

    /** The lcmp result on the stack: jump to {@code target} when the relation is false (or true when {@code negated}). */
    private void jump(Less relation, boolean negated, Label target) {
        switch (relation) {
            case LT -> { if (negated) cob.iflt(target); else cob.ifge(target); }
            case LE -> { if (negated) cob.ifle(target); else cob.ifgt(target); }
            case EQ -> { if (negated) cob.ifeq(target); else cob.ifne(target); }
            case NE -> { if (negated) cob.ifne(target); else cob.ifeq(target); }
        }
    }

    private void operand(int local, int sh, boolean unsigned) {
        cob.lload(local);
        if (sh != 0) cob.loadConstant(sh).lshl();
        if (unsigned) cob.loadConstant(Long.MIN_VALUE).lxor();
    }
}
