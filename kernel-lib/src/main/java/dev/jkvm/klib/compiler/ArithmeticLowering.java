package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.OperatorInstruction;

/**
 * Lowers the integer operators (add to ushr, neg, lcmp, arraylength) and conversions of the
 * method MethodTranslator is translating: constants fold, lea and scaled addressing replace
 * add chains, shifts that form a rotate become one rol, and a load through Memory.loadN that
 * follows an address computation becomes one memory operand.
 */
final class ArithmeticLowering {
    private final MethodTranslator t;
    private final Assembler a;
    private final OperandStack stack;
    private final InstructionCursor cursor;

    ArithmeticLowering(MethodTranslator t) {
        this.t = t;
        this.a = t.a;
        this.stack = t.stack;
        this.cursor = t.cursor;
    }

    enum Alu { ADD, SUB, AND, OR, XOR, CMP }

    /** dst op= src, bits wide; into memory only CMP (the stack never updates memory in place). */
    void alu(Alu op, Operand dst, Operand src, int bits) {
        Operand d = dst.sized(bits);
        Operand s = src.sized(bits);
        if (s instanceof Operand.Constant(long l) && bits == 64 && !OperandStack.fitsInt(l)) {
            a.mov(Reg.RDX, l);
            s = Operand.of(Reg.RDX);
        }
        if (d instanceof Operand.InMemory && s instanceof Operand.InMemory) {
            stack.move(Reg.RDX, src, bits);
            s = Operand.of(Reg.RDX.withBits(bits));
        }
        switch (d) {
            case Operand.InRegister(Reg r) -> {
                switch (s) {
                    case Operand.InRegister(Reg x) -> {
                        switch (op) {
                            case ADD -> a.add(r, x);
                            case SUB -> a.sub(r, x);
                            case AND -> a.and(r, x);
                            case OR -> a.or(r, x);
                            case XOR -> a.xor(r, x);
                            case CMP -> a.cmp(r, x);
                        }
                    }
                    case Operand.InMemory(Mem x) -> {
                        switch (op) {
                            case ADD -> a.add(r, x);
                            case SUB -> a.sub(r, x);
                            case AND -> a.and(r, x);
                            case OR -> a.or(r, x);
                            case XOR -> a.xor(r, x);
                            case CMP -> a.cmp(r, x);
                        }
                    }
                    case Operand.Constant(long c) -> {
                        long imm = bits == 64 ? c : (long) (int) c;
                        switch (op) {
                            case ADD -> a.add(r, imm);
                            case SUB -> a.sub(r, imm);
                            case AND -> a.and(r, imm);
                            case OR -> a.or(r, imm);
                            case XOR -> a.xor(r, imm);
                            case CMP -> a.cmp(r, imm);
                        }
                    }
                }
            }
            case Operand.InMemory(Mem m) -> {
                if (op != Alu.CMP) {
                    throw new IllegalStateException("alu into memory");
                }
                switch (s) {
                    case Operand.InRegister(Reg x) -> a.cmp(m, x);
                    case Operand.Constant(long c) -> a.cmp(m, bits == 64 ? c : (long) (int) c);
                    case Operand.InMemory x -> throw new IllegalStateException("memory to memory went through rdx above");
                }
            }
            case Operand.Constant c -> throw new IllegalStateException("alu into the constant " + c.value());
        }
    }

    /** Register dst op= src, bits wide. */
    void alu(Alu op, Reg dst, Operand src, int bits) {
        alu(op, Operand.of(dst), src, bits);
    }

    void operator(OperatorInstruction o) {
        Opcode op = o.opcode();
        switch (op) {
            case IADD -> binary(Alu.ADD, false, true);
            case LADD -> binary(Alu.ADD, true, true);
            case ISUB -> binary(Alu.SUB, false, false);
            case LSUB -> binary(Alu.SUB, true, false);
            case IAND -> binary(Alu.AND, false, true);
            case LAND -> binary(Alu.AND, true, true);
            case IOR -> binary(Alu.OR, false, true);
            case LOR -> binary(Alu.OR, true, true);
            case IXOR -> binary(Alu.XOR, false, true);
            case LXOR -> binary(Alu.XOR, true, true);
            case IMUL -> multiply(false);
            case LMUL -> multiply(true);
            case IDIV -> divide(false, false);
            case LDIV -> divide(true, false);
            case IREM -> divide(false, true);
            case LREM -> divide(true, true);
            case INEG -> negate(false);
            case LNEG -> negate(true);
            case ISHL, ISHR, IUSHR, LSHL, LSHR, LUSHR -> shift(op);
            case LCMP -> longCompare();
            case ARRAYLENGTH -> {
                if (!(stack.pop() instanceof StackValue.ArrayRef(FieldRef array))) {
                    throw t.violation("takes the length of a non-constant array");
                }
                stack.push(StackValue.constant(t.constantArray(array).length(), false));
            }
            default -> throw t.violation(Unsupported.describe(o));
        }
    }

    private static long fold(Alu op, long x, long y, boolean wide) {
        long r = switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case AND -> x & y;
            case OR -> x | y;
            case XOR -> x ^ y;
            case CMP -> throw new IllegalStateException();
        };
        return wide ? r : (int) r;
    }

    private void binary(Alu op, boolean wide, boolean commutative) {
        StackValue b = stack.pop();
        StackValue x = stack.pop();
        int bits = wide ? 64 : 32;
        if (x instanceof StackValue.Constant(long xc, _) && b instanceof StackValue.Constant(long bc, _)) {
            stack.push(StackValue.constant(fold(op, xc, bc, wide), wide));
            return;
        }
        if (commutative && x instanceof StackValue.Constant) {
            StackValue t = x;
            x = b;
            b = t;
        }
        if (op == Alu.ADD && wide && stack.operand(x) instanceof Operand.InRegister(Reg xr)) {
            Mem address = switch (stack.operand(b)) {
                case Operand.InRegister(Reg br) -> Mem.at(xr.withBits(64)).index(br.withBits(64), 1);
                case Operand.Constant(long imm) when OperandStack.fitsInt(imm) -> Mem.at(xr.withBits(64), imm);
                case Operand.Constant c -> null;
                case Operand.InMemory m -> null;
            };
            int loadAt = cursor.following(cursor.index);
            int loadBits = memoryLoadBits(cursor.instructionAt(loadAt));
            if (address != null && loadBits > 0) {
                skipTo(loadAt);
                memoryLoad(address, loadBits);
                return;
            }
        }
        Reg r = stack.resultRegister(stack.size());
        Operand xo = stack.operand(x);
        Operand bo = stack.operand(b);
        if (xo.is(r)) {
            alu(op, r, bo, bits);
        } else if (commutative && bo.is(r)) {
            alu(op, r, xo, bits);
        } else if (bo.sharesRegisterWith(r)) {
            stack.move(Reg.RCX, bo, bits);
            stack.move(r, xo, bits);
            alu(op, r, Operand.of(Reg.RCX), bits);
        } else if (xo instanceof Operand.InRegister(Reg xr) && leaAddend(op, bo) != null) {
            // Three-operand add: lea computes x + y or x + imm into r without disturbing x.
            Mem sum = switch (leaAddend(op, bo)) {
                case Operand.InRegister(Reg yr) -> Mem.at(xr.withBits(64)).index(yr.withBits(64), 1);
                case Operand.Constant(long displacement) -> Mem.at(xr.withBits(64), displacement);
                case Operand.InMemory m -> throw new IllegalStateException("lea adds no memory operand");
            };
            a.lea(r.withBits(bits), sum);
        } else {
            stack.move(r, xo, bits);
            alu(op, r, bo, bits);
        }
        stack.pushResult(r, wide);
    }

    /**
     * Address arithmetic "base + index * scale" (an lmul by 1, 2, 4 or 8 followed by ladd) is one
     * x86 addressing mode (Intel SDM Vol. 1 3.7.5): one lea, or no instruction at all when a
     * Memory.load consumes the sum. False (nothing emitted) when the pattern does not apply.
     */
    private boolean fuseScaledAdd(StackValue indexValue, int scale) {
        int addAt = cursor.following(cursor.index);
        if (!(cursor.instructionAt(addAt) instanceof OperatorInstruction add) || add.opcode() != Opcode.LADD
                || stack.isEmpty()) {
            return false;
        }
        StackValue base = stack.peek();
        if (!(stack.operand(base) instanceof Operand.InRegister(Reg br))
                || !(stack.operand(indexValue) instanceof Operand.InRegister(Reg ir))) {
            return false;
        }
        stack.pop();
        skipTo(addAt);
        Mem address = Mem.at(br.withBits(64)).index(ir.withBits(64), scale);
        int loadAt = cursor.following(cursor.index);
        int loadBits = memoryLoadBits(cursor.instructionAt(loadAt));
        if (loadBits > 0) {
            skipTo(loadAt);
            memoryLoad(address, loadBits);
            return true;
        }
        Reg r = stack.resultRegister(stack.size());
        a.lea(r.withBits(64), address);
        stack.pushResult(r, true);
        return true;
    }

    /** Makes element i the current one: the instructions between were consumed by a fused pattern. */
    private void skipTo(int i) {
        cursor.skipTo(i);
        stack.hint(null);
    }

    /** Width of a Memory.loadN call, or 0 when ins is not one. */
    private static int memoryLoadBits(Instruction ins) {
        if (ins instanceof InvokeInstruction inv && inv.opcode() == Opcode.INVOKESTATIC
                && inv.owner().asInternalName().equals(MethodAnalysis.INTRINSIC_PACKAGE + "Memory")) {
            return switch (inv.name().stringValue()) {
                case "load8" -> 8;
                case "load16" -> 16;
                case "load32" -> 32;
                case "load64" -> 64;
                default -> 0;
            };
        }
        return 0;
    }

    /**
     * Pushes the value of a Memory.loadN at address. "load8(p) & 0xFF" (or load16 and 0xFFFF)
     * becomes one zero-extending load instead of a sign-extending load and an and.
     */
    void memoryLoad(Mem address, int bits) {
        int maskAt = cursor.following(cursor.index);
        int andAt = cursor.following(maskAt);
        boolean unsigned = bits < 32
                && cursor.instructionAt(maskAt) instanceof ConstantInstruction c
                && c.constantValue() instanceof Integer mask && mask == (1 << bits) - 1
                && cursor.instructionAt(andAt) instanceof OperatorInstruction and && and.opcode() == Opcode.IAND;
        if (unsigned) {
            skipTo(andAt);
        }
        Reg r = stack.resultRegister(stack.size());
        t.loadExtended(r, address, bits, !unsigned);
        stack.pushResult(r, bits == 64);
    }

    /** What lea can add for x op b: a register, or a 32-bit displacement; null when lea does not fit. */
    private static Operand leaAddend(Alu op, Operand b) {
        return switch (b) {
            case Operand.InRegister r -> op == Alu.ADD ? r : null;
            case Operand.Constant(long imm) -> {
                long addend = op == Alu.ADD ? imm : op == Alu.SUB ? -imm : Long.MAX_VALUE;
                yield addend != Long.MAX_VALUE && OperandStack.fitsInt(addend) ? Operand.of(addend) : null;
            }
            case Operand.InMemory m -> null;
        };
    }

    private void multiply(boolean wide) {
        StackValue b = stack.pop();
        StackValue x = stack.pop();
        int bits = wide ? 64 : 32;
        if (x instanceof StackValue.Constant(long xc, _) && b instanceof StackValue.Constant(long bc, _)) {
            stack.push(StackValue.constant(wide ? xc * bc : (int) xc * (int) bc, wide));
            return;
        }
        if (x instanceof StackValue.Constant) {
            StackValue t = x;
            x = b;
            b = t;
        }
        if (wide && b instanceof StackValue.Constant(long scale, _) && (scale == 1 || scale == 2 || scale == 4 || scale == 8)
                && fuseScaledAdd(x, (int) scale)) {
            return;
        }
        Reg r = stack.resultRegister(stack.size()).withBits(bits);
        Operand xo = stack.operand(x);
        Operand bo = stack.operand(b);
        if (bo instanceof Operand.Constant(long imm) && OperandStack.fitsInt(imm)) {
            long value = wide ? imm : (long) (int) imm;
            switch (xo.sized(bits)) {
                case Operand.InRegister(Reg s) -> a.imul(r, s, value);
                case Operand.InMemory(Mem m) -> a.imul(r, m, value);
                case Operand.Constant c -> throw new IllegalStateException("two constants are folded above");
            }
        } else {
            if (bo.sharesRegisterWith(r)) {
                Operand t = xo;
                xo = bo;
                bo = t;
            }
            stack.move(r, xo, bits);
            switch (bo.sized(bits)) {
                case Operand.InRegister(Reg s) -> a.imul(r, s);
                case Operand.InMemory(Mem m) -> a.imul(r, m);
                case Operand.Constant(long c) -> {
                    a.mov(Reg.RDX, c);
                    a.imul(r, Reg.RDX);
                }
            }
        }
        stack.pushResult(r.withBits(64), wide);
    }

    private void divide(boolean wide, boolean remainder) {
        StackValue b = stack.pop();
        StackValue x = stack.pop();
        int bits = wide ? 64 : 32;
        if (b instanceof StackValue.Constant(long bc, _) && bc == 0) {
            t.callPanic(SymbolNames.PANIC_DIVIDE_BY_ZERO);
            stack.push(StackValue.constant(0, wide));
            return;
        }
        if (x instanceof StackValue.Constant(long xc, _) && b instanceof StackValue.Constant(long bc, _)) {
            long v = wide
                    ? (remainder ? xc % bc : xc / bc)
                    : (remainder ? (int) xc % (int) bc : (int) xc / (int) bc);
            stack.push(StackValue.constant(v, wide));
            return;
        }
        Reg r = stack.resultRegister(stack.size());
        if (b instanceof StackValue.Constant(long bc, _) && bc == -1) {
            // x86 idiv faults on MIN / -1; Java defines the quotient as -x (wrapping) and the remainder 0.
            if (remainder) {
                stack.push(StackValue.constant(0, wide));
                return;
            }
            stack.move(r, stack.operand(x), bits);
            a.neg(r.withBits(bits));
            stack.pushResult(r, wide);
            return;
        }
        Operand bo = stack.operand(b);
        if (bo instanceof Operand.Constant c) {
            stack.move(Reg.RCX, c, bits);
            bo = Operand.of(Reg.RCX);
        }
        Label done = new Label();
        boolean divisorIsConstant = b instanceof StackValue.Constant;
        boolean mayBeMinusOne = !divisorIsConstant;
        boolean dividendMayBeMin = !(x instanceof StackValue.Constant(long xc, _)
                && xc != (wide ? Long.MIN_VALUE : Integer.MIN_VALUE));
        Label minusOne = new Label();
        if (!divisorIsConstant) {
            switch (bo) {
                case Operand.InRegister(Reg br) -> a.test(br.withBits(bits), br.withBits(bits));
                case Operand.InMemory(Mem m) -> a.cmp(m.size(bits), 0);
                case Operand.Constant c -> throw new IllegalStateException("a constant divisor was moved to rcx above");
            }
            a.jcc(Cond.E, t.divideByZeroStub());
            if (mayBeMinusOne && dividendMayBeMin) {
                alu(Alu.CMP, bo, Operand.of(-1L), bits);
                a.jcc(Cond.E, minusOne);
            }
        }
        stack.move(Reg.RAX, stack.operand(x), bits);
        if (wide) {
            a.cqo();
        } else {
            a.cdq();
        }
        switch (bo.sized(bits)) {
            case Operand.InRegister(Reg dr) -> a.idiv(dr);
            case Operand.InMemory(Mem m) -> a.idiv(m);
            case Operand.Constant c -> throw new IllegalStateException("a constant divisor was moved to rcx above");
        }
        stack.move(r, remainder ? Reg.RDX : Reg.RAX, bits);
        if (mayBeMinusOne && dividendMayBeMin) {
            a.jmp(done);
            a.bind(minusOne);
            if (remainder) {
                a.mov(r.withBits(32), 0);
            } else {
                stack.move(r, stack.operand(x), bits);
                a.neg(r.withBits(bits));
            }
            a.bind(done);
        }
        stack.pushResult(r, wide);
    }

    private void negate(boolean wide) {
        StackValue x = stack.pop();
        if (x instanceof StackValue.Constant(long xc, _)) {
            stack.push(StackValue.constant(wide ? -xc : -(int) xc, wide));
            return;
        }
        Reg r = stack.resultRegister(stack.size());
        stack.move(r, stack.operand(x), wide ? 64 : 32);
        a.neg(r.withBits(wide ? 64 : 32));
        stack.pushResult(r, wide);
    }

    private void shift(Opcode op) {
        boolean wide = op == Opcode.LSHL || op == Opcode.LSHR || op == Opcode.LUSHR;
        int bits = wide ? 64 : 32;
        StackValue count = stack.pop();
        StackValue x = stack.pop();
        if (x instanceof StackValue.Constant(long xc, _) && count instanceof StackValue.Constant(long cc, _)) {
            int n = (int) cc;
            long v = switch (op) {
                case ISHL -> (int) xc << n;
                case ISHR -> (int) xc >> n;
                case IUSHR -> (int) xc >>> n;
                case LSHL -> xc << n;
                case LSHR -> xc >> n;
                default -> xc >>> n;
            };
            stack.push(StackValue.constant(v, wide));
            return;
        }
        if ((op == Opcode.ISHL || op == Opcode.LSHL) && count instanceof StackValue.Constant(long cc, _)
                && fuseRotate(x, (int) cc, wide)) {
            return;
        }
        Reg r = stack.resultRegister(stack.size()).withBits(bits);
        if (count instanceof StackValue.Constant(long cc, _)) {
            int n = (int) cc & (bits - 1);
            stack.move(r, stack.operand(x), bits);
            if (n != 0) {
                switch (op) {
                    case ISHL, LSHL -> a.shl(r, n);
                    case ISHR, LSHR -> a.sar(r, n);
                    default -> a.shr(r, n);
                }
            }
        } else {
            // x86 masks the count in CL to 5 bits (6 for 64-bit operands), exactly as Java does (JLS 15.19).
            stack.move(Reg.RCX, stack.operand(count), 32);
            stack.move(r, stack.operand(x), bits);
            switch (op) {
                case ISHL, LSHL -> a.shl(r, Reg.CL);
                case ISHR, LSHR -> a.sar(r, Reg.CL);
                default -> a.shr(r, Reg.CL);
            }
        }
        stack.pushResult(r.withBits(64), wide);
    }

    /**
     * "(x << n) | (x >>> (bits - n))" of one local x is a rotation: one rol instead of two
     * shifts, a copy and an or. False (nothing emitted) when the pattern does not apply.
     */
    private boolean fuseRotate(StackValue x, int count, boolean wide) {
        int bits = wide ? 64 : 32;
        int n = count & (bits - 1);
        if (!(x instanceof StackValue.LocalRead(int slot, _)) || n == 0) {
            return false;
        }
        int loadAt = cursor.following(cursor.index);
        int countAt = cursor.following(loadAt);
        int shiftAt = cursor.following(countAt);
        int orAt = cursor.following(shiftAt);
        boolean matches = cursor.instructionAt(loadAt) instanceof LoadInstruction l && l.slot() == slot
                && l.typeKind() == (wide ? TypeKind.LONG : TypeKind.INT)
                && cursor.instructionAt(countAt) instanceof ConstantInstruction c
                && c.constantValue() instanceof Integer k && (k & (bits - 1)) == bits - n
                && cursor.instructionAt(shiftAt) instanceof OperatorInstruction shr
                && shr.opcode() == (wide ? Opcode.LUSHR : Opcode.IUSHR)
                && cursor.instructionAt(orAt) instanceof OperatorInstruction or
                && or.opcode() == (wide ? Opcode.LOR : Opcode.IOR);
        if (!matches) {
            return false;
        }
        skipTo(orAt);
        Reg r = stack.resultRegister(stack.size());
        stack.move(r, stack.operand(x), bits);
        a.rol(r.withBits(bits), n);
        stack.pushResult(r, wide);
        return true;
    }

    private void longCompare() {
        StackValue b = stack.pop();
        StackValue x = stack.pop();
        Instruction next = cursor.nextInstruction();
        if (next instanceof BranchInstruction br && BranchLowering.zeroCompare(br.opcode()) != null) {
            cursor.skipTo(cursor.following(cursor.index));
            stack.flush();
            t.branches.conditionalBranch(x, b, BranchLowering.zeroCompare(br.opcode()), 64, br.target());
            return;
        }
        if (x instanceof StackValue.Constant(long xc, _) && b instanceof StackValue.Constant(long bc, _)) {
            stack.push(StackValue.constant(Long.compare(xc, bc), false));
            return;
        }
        Operand xo = stack.operand(x);
        Operand bo = stack.operand(b);
        Reg r = stack.resultRegister(stack.size());
        if (xo instanceof Operand.Constant c) {
            stack.move(Reg.RAX, c, 64);
            xo = Operand.of(Reg.RAX);
        }
        alu(Alu.CMP, xo, bo, 64);
        a.setcc(Cond.G, Reg.AL);
        a.setcc(Cond.L, Reg.CL);
        a.sub(Reg.AL, Reg.CL);
        a.movsx(r.withBits(32), Reg.AL);
        stack.pushResult(r, false);
    }

    void convert(ConvertInstruction c) {
        StackValue x = stack.pop();
        TypeKind from = c.fromType();
        TypeKind to = c.toType();
        if (from == TypeKind.LONG && to == TypeKind.INT) {
            // The low half of a 64-bit location is the int (little endian): no instruction.
            switch (x) {
                case StackValue.Constant(long value, _) -> stack.push(StackValue.constant((int) value, false));
                case StackValue.LocalRead(int slot, _) -> stack.push(StackValue.local(slot, false));
                case StackValue.Located(Operand.Location location, _) -> stack.push(StackValue.located(location, false));
                case StackValue.StringLiteral _, StackValue.ArrayRef _ ->
                        throw t.violation(Unsupported.describe(c)); // l2i of a reference: the verifier rejects it
            }
            return;
        }
        if (from != TypeKind.INT) {
            throw t.violation(Unsupported.describe(c));
        }
        if (x instanceof StackValue.Constant(long value, _)) {
            int v = (int) value;
            switch (to) {
                case LONG -> stack.push(StackValue.constant(v, true));
                case BYTE -> stack.push(StackValue.constant((byte) v, false));
                case SHORT -> stack.push(StackValue.constant((short) v, false));
                case CHAR -> stack.push(StackValue.constant((char) v, false));
                default -> throw t.violation(Unsupported.describe(c));
            }
            return;
        }
        Reg r = stack.resultRegister(stack.size());
        Operand src = stack.operand(x);
        switch (to) {
            case LONG -> {
                switch (src.sized(32)) {
                    case Operand.InRegister(Reg s) -> a.movsxd(r, s);
                    case Operand.InMemory(Mem m) -> a.movsxd(r, m);
                    case Operand.Constant k -> throw new IllegalStateException("constants are converted above");
                }
                stack.pushResult(r, true);
                return;
            }
            case BYTE, SHORT, CHAR -> {
                boolean zeroExtend = to == TypeKind.CHAR;
                switch (src.sized(to == TypeKind.BYTE ? 8 : 16)) {
                    case Operand.InRegister(Reg s) when zeroExtend -> a.movzx(r.withBits(32), s);
                    case Operand.InRegister(Reg s) -> a.movsx(r.withBits(32), s);
                    case Operand.InMemory(Mem m) when zeroExtend -> a.movzx(r.withBits(32), m);
                    case Operand.InMemory(Mem m) -> a.movsx(r.withBits(32), m);
                    case Operand.Constant k -> throw new IllegalStateException("constants are converted above");
                }
            }
            default -> throw t.violation(Unsupported.describe(c));
        }
        stack.pushResult(r, false);
    }
}
