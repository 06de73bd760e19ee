package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.util.HashMap;
import java.util.Map;

/**
 * Lowers goto and the conditional branches (if*, if_icmp*, and lcmp fused with the ifXX after
 * it): a compare and one conditional jump, a constant condition folded to a jump or nothing,
 * "if !c goto L1; goto L2; L1:" as one inverted jump, and loop rotation: a loop's exit test
 * repeated at its back edge (LoopTest) so that an iteration takes one jump.
 */
final class BranchLowering {
    private final MethodTranslator t;
    private final Assembler a;
    private final OperandStack stack;
    private final InstructionCursor cursor;
    /** Loop heads whose exit test can be repeated at the back edge (see LoopTest). */
    private final Map<java.lang.classfile.Label, LoopTest> loopTests = new HashMap<>();
    /** The loop head just entered with an empty stack, while only loads have followed it; else null. */
    private java.lang.classfile.Label freshLoopHead;

    BranchLowering(MethodTranslator t) {
        this.t = t;
        this.a = t.a;
        this.stack = t.stack;
        this.cursor = t.cursor;
    }

    /** Sets the loop head just entered (see freshLoopHead), or null once other code follows it. */
    void enteredLoopHead(java.lang.classfile.Label head) {
        freshLoopHead = head;
    }

    static Cond zeroCompare(Opcode op) {
        return switch (op) {
            case IFEQ -> Cond.E;
            case IFNE -> Cond.NE;
            case IFLT -> Cond.L;
            case IFGE -> Cond.GE;
            case IFGT -> Cond.G;
            case IFLE -> Cond.LE;
            default -> null;
        };
    }

    private static Cond pairCompare(Opcode op) {
        return switch (op) {
            case IF_ICMPEQ -> Cond.E;
            case IF_ICMPNE -> Cond.NE;
            case IF_ICMPLT -> Cond.L;
            case IF_ICMPGE -> Cond.GE;
            case IF_ICMPGT -> Cond.G;
            case IF_ICMPLE -> Cond.LE;
            default -> null;
        };
    }

    private static Cond swapped(Cond c) {
        return switch (c) {
            case L -> Cond.G;
            case G -> Cond.L;
            case LE -> Cond.GE;
            case GE -> Cond.LE;
            default -> c;
        };
    }

    private static boolean holds(Cond c, long x, long y) {
        return switch (c) {
            case E -> x == y;
            case NE -> x != y;
            case L -> x < y;
            case GE -> x >= y;
            case G -> x > y;
            case LE -> x <= y;
            default -> throw new IllegalStateException(c.toString());
        };
    }

    void branch(BranchInstruction b) {
        Opcode op = b.opcode();
        if (op == Opcode.GOTO || op == Opcode.GOTO_W) {
            stack.flush();
            LoopTest test = loopTests.get(b.target());
            if (test != null && stack.isEmpty()) {
                // Loop rotation: repeat the head's exit test here, so an iteration takes one jump.
                compareAndBranch(test.x(), test.y(), test.exitCondition().negate(), test.bits(), test.body());
                int next = cursor.following(cursor.index);
                boolean exitFollows = next < t.analysis.elements.size() && t.analysis.elements.get(next).element() instanceof LabelTarget lt
                        && t.analysis.labels.get(lt.label()) == test.exit();
                if (!exitFollows) {
                    a.jmp(test.exit());
                }
            } else {
                a.jmp(t.target(b.target()));
            }
            t.reachable = false;
            return;
        }
        java.lang.classfile.Label head = freshLoopHead;
        freshLoopHead = null;
        Cond zero = zeroCompare(op);
        if (zero != null) {
            StackValue x = stack.pop();
            stack.flush();
            conditionalBranch(x, StackValue.constant(0, false), zero, 32, b.target());
            recordLoopTest(head);
            return;
        }
        Cond pair = pairCompare(op);
        if (pair != null) {
            StackValue y = stack.pop();
            StackValue x = stack.pop();
            stack.flush();
            conditionalBranch(x, y, pair, 32, b.target());
            recordLoopTest(head);
            return;
        }
        throw t.violation(Unsupported.describe(b));
    }

    /**
     * javac compiles "if (c) continue/break" as "if !c goto L1; goto L2; L1:"; that pair becomes
     * one inverted conditional jump to L2.
     */
    void conditionalBranch(StackValue x, StackValue y, Cond cond, int bits,
            java.lang.classfile.Label taken) {
        int gotoIndex = cursor.following(cursor.index);
        int labelIndex = cursor.following(gotoIndex);
        if (labelIndex < t.analysis.elements.size()
                && t.analysis.elements.get(gotoIndex).element() instanceof BranchInstruction g
                && (g.opcode() == Opcode.GOTO || g.opcode() == Opcode.GOTO_W)
                && t.analysis.elements.get(labelIndex).element() instanceof LabelTarget lt && lt.label() == taken) {
            cursor.index = gotoIndex;
            compareAndBranch(x, y, cond.negate(), bits, t.target(g.target()));
            return;
        }
        compareAndBranch(x, y, cond, bits, t.target(taken));
    }

    /** The last compareAndBranch, for recordLoopTest. */
    private LoopTest lastTest;

    /**
     * If the conditional branch just translated is the whole exit test of a loop head (only
     * reads of locals and constants since the head, stack empty), remembers it so the loop's
     * back edge can repeat the test instead of jumping to the head.
     */
    private void recordLoopTest(java.lang.classfile.Label head) {
        LoopTest test = lastTest;
        lastTest = null;
        if (head == null || test == null || !t.reachable || !stack.isEmpty() || loopTests.containsKey(head)) {
            return;
        }
        Label body = new Label();
        a.bind(body);
        loopTests.put(head, new LoopTest(test.x(), test.y(), test.exitCondition(), test.bits(), test.exit(), body));
    }

    private void compareAndBranch(StackValue x, StackValue y, Cond cond, int bits, Label to) {
        lastTest = null;
        Cond exitCondition = cond;
        if (x instanceof StackValue.Constant(long xc, _) && y instanceof StackValue.Constant(long yc, _)) {
            if (holds(cond, xc, yc)) {
                a.jmp(to);
                t.reachable = false;
                stack.clear();
            }
            return;
        }
        Operand xo = stack.operand(x);
        Operand yo = stack.operand(y);
        if (xo instanceof Operand.Constant) {
            Operand t = xo;
            xo = yo;
            yo = t;
            cond = swapped(cond);
        }
        if (xo instanceof Operand.InMemory && yo instanceof Operand.InMemory) {
            stack.move(Reg.RAX, xo, bits);
            xo = Operand.of(Reg.RAX);
        }
        if (xo instanceof Operand.InRegister(Reg r) && yo instanceof Operand.Constant(long l) && l == 0) {
            a.test(r.withBits(bits), r.withBits(bits));
        } else {
            t.arithmetic.alu(ArithmeticLowering.Alu.CMP, xo, yo, bits);
        }
        a.jcc(cond, to);
        if (isReadOnly(x) && isReadOnly(y)) {
            lastTest = new LoopTest(x, y, exitCondition, bits, to, null);
        }
    }

    /** A value that is a constant or an unread local: re-evaluating it later reads the local anew. */
    private static boolean isReadOnly(StackValue v) {
        return switch (v) {
            case StackValue.Constant _, StackValue.LocalRead _ -> true;
            case StackValue.Located _, StackValue.StringLiteral _, StackValue.ArrayRef _ -> false;
        };
    }
}
