package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Section;

import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Lowers tableswitch and lookupswitch: a jump through a table for dense tableswitches, else a
 * binary search over the sorted keys; a constant key becomes one jump. The code after a switch
 * is unreachable; the caller marks it so.
 */
final class SwitchLowering {
    private final Assembler a;
    private final OperandStack stack;
    /** The code label of a branch target, recording the stack state a jump carries there. */
    private final Function<java.lang.classfile.Label, Label> target;

    SwitchLowering(Assembler a, OperandStack stack, Function<java.lang.classfile.Label, Label> target) {
        this.a = a;
        this.stack = stack;
        this.target = target;
    }

    void lower(TableSwitchInstruction t) {
        if (!(stack.peek() instanceof StackValue.Constant) && isDense(t)) {
            jumpTable(t);
        } else {
            switchOn(new ArrayList<>(t.cases()), t.defaultTarget());
        }
    }

    void lower(LookupSwitchInstruction l) {
        switchOn(new ArrayList<>(l.cases()), l.defaultTarget());
    }

    private void switchOn(List<SwitchCase> cases, java.lang.classfile.Label defaultTarget) {
        StackValue key = stack.pop();
        stack.flush();
        Label otherwise = target.apply(defaultTarget);
        if (key instanceof StackValue.Constant(long keyValue, _)) {
            Label chosen = otherwise;
            for (SwitchCase c : cases) {
                if (c.caseValue() == (int) keyValue) {
                    chosen = target.apply(c.target());
                }
            }
            a.jmp(chosen);
            return;
        }
        Reg k = stack.inRegister(stack.operand(key), 32, Reg.RAX).withBits(32);
        cases.sort(Comparator.comparingInt(SwitchCase::caseValue));
        search(k, cases, 0, cases.size(), otherwise);
    }

    /** Dense enough that a table indexed by key - low beats the binary search's compares. */
    private static boolean isDense(TableSwitchInstruction t) {
        long entries = (long) t.highValue() - t.lowValue() + 1;
        return t.cases().size() >= 4 && entries <= 1024 && entries <= 4L * t.cases().size();
    }

    /**
     * A dense tableswitch as one indirect jump through a table of absolute addresses in rodata:
     * rax = key - low, unsigned-compared against the range so that keys below low wrap to
     * large values and take the default too.
     */
    private void jumpTable(TableSwitchInstruction t) {
        StackValue key = stack.pop();
        stack.flush();
        Label otherwise = target.apply(t.defaultTarget());
        Map<Integer, Label> byValue = new HashMap<>();
        for (SwitchCase c : t.cases()) {
            byValue.put(c.caseValue(), target.apply(c.target()));
        }
        stack.move(Reg.RAX, stack.operand(key), 32);
        if (t.lowValue() != 0) {
            a.sub(Reg.EAX, t.lowValue());
        }
        a.cmp(Reg.EAX, (long) t.highValue() - t.lowValue());
        a.jcc(Cond.A, otherwise);
        Label table = new Label();
        // Writing eax zero-extended rax, so rax is the (unsigned, in-range) table index.
        a.lea(Reg.RDX, Mem.rip(table));
        a.jmp(Mem.at(Reg.RDX).index(Reg.RAX, 8).size(64));
        Section textSection = a.currentSection();
        a.section("rodata", Section.Kind.RODATA);
        a.align(8);
        a.bind(table);
        for (long v = t.lowValue(); v <= t.highValue(); v++) {
            a.dq(byValue.getOrDefault((int) v, otherwise));
        }
        a.section(textSection.name());
    }

    /** Binary search over sorted cases [lo, hi): about log2(n) compares per dispatch. */
    private void search(Reg key, List<SwitchCase> cases, int lo, int hi, Label otherwise) {
        if (hi - lo <= 4) {
            for (int i = lo; i < hi; i++) {
                a.cmp(key, cases.get(i).caseValue());
                a.jcc(Cond.E, target.apply(cases.get(i).target()));
            }
            a.jmp(otherwise);
            return;
        }
        int mid = (lo + hi) >>> 1;
        Label below = new Label();
        a.cmp(key, cases.get(mid).caseValue());
        a.jcc(Cond.E, target.apply(cases.get(mid).target()));
        a.jcc(Cond.L, below);
        search(key, cases, mid + 1, hi, otherwise);
        a.bind(below);
        search(key, cases, lo, mid, otherwise);
    }
}
