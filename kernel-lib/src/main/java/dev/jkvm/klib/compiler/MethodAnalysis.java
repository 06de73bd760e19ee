package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Label;

import java.lang.classfile.Attributes;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.attribute.StackMapFrameInfo;
import java.lang.classfile.attribute.StackMapTableAttribute;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LineNumber;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What MethodTranslator learns about a method's bytecode before translating it: its code
 * elements with bytecode index and source line, the branch targets (and which of them are loop
 * heads), the stack map frames, and the use weights that FrameLayout assigns registers by.
 */
final class MethodAnalysis {
    static final String INTRINSIC_PACKAGE = "dev/jkvm/klib/rt/";

    /** One code element with its bytecode index and source line. */
    record Element(CodeElement element, int bci, int line) {
    }

    private final CodeAttribute code;
    private final UnitBuilder unit;
    final List<Element> elements = new ArrayList<>();
    final Set<java.lang.classfile.Label> branchTargets = new HashSet<>();
    /** Targets of at least one branch at or after them (loop heads): reachable before their jumps are seen. */
    final Set<java.lang.classfile.Label> backwardTargets = new HashSet<>();
    /** The code label of each branch target. */
    final Map<java.lang.classfile.Label, Label> labels = new HashMap<>();
    /** The operand stack of each stack map frame: per entry true for long, false for int, null for other. */
    final Map<java.lang.classfile.Label, List<Boolean>> mapFrames = new HashMap<>();
    /** Use weights of the constant arrays loopArrays returned. */
    final Map<FieldRef, Long> arrayWeights = new HashMap<>();

    MethodAnalysis(CodeAttribute code, UnitBuilder unit) {
        this.code = code;
        this.unit = unit;
        analyse();
    }

    private void analyse() {
        int at = 0;
        int currentLine = -1;
        for (CodeElement e : code.elementList()) {
            if (e instanceof LineNumber ln) {
                currentLine = ln.line();
            }
            elements.add(new Element(e, at, currentLine));
            if (e instanceof Instruction ins) {
                at += ins.sizeInBytes();
            }
            switch (e) {
                case BranchInstruction b -> branchTargets.add(b.target());
                case TableSwitchInstruction t -> {
                    branchTargets.add(t.defaultTarget());
                    t.cases().forEach(c -> branchTargets.add(c.target()));
                }
                case LookupSwitchInstruction l -> {
                    branchTargets.add(l.defaultTarget());
                    l.cases().forEach(c -> branchTargets.add(c.target()));
                }
                default -> {
                }
            }
        }
        for (java.lang.classfile.Label l : branchTargets) {
            labels.put(l, new Label());
        }
        for (Element el : elements) {
            List<java.lang.classfile.Label> targets = switch (el.element) {
                case BranchInstruction b -> List.of(b.target());
                case TableSwitchInstruction t -> t.cases().stream().map(SwitchCase::target).toList();
                case LookupSwitchInstruction l -> l.cases().stream().map(SwitchCase::target).toList();
                default -> List.of();
            };
            for (java.lang.classfile.Label t : targets) {
                if (code.labelToBci(t) <= el.bci) {
                    backwardTargets.add(t);
                }
            }
            if (el.element instanceof TableSwitchInstruction t && code.labelToBci(t.defaultTarget()) <= el.bci) {
                backwardTargets.add(t.defaultTarget());
            }
            if (el.element instanceof LookupSwitchInstruction l && code.labelToBci(l.defaultTarget()) <= el.bci) {
                backwardTargets.add(l.defaultTarget());
            }
        }
        code.findAttribute(Attributes.stackMapTable()).ifPresent((StackMapTableAttribute smt) -> {
            for (StackMapFrameInfo f : smt.entries()) {
                List<Boolean> wide = new ArrayList<>();
                for (StackMapFrameInfo.VerificationTypeInfo t : f.stack()) {
                    wide.add(t == StackMapFrameInfo.SimpleVerificationTypeInfo.LONG);
                    if (t != StackMapFrameInfo.SimpleVerificationTypeInfo.LONG
                            && t != StackMapFrameInfo.SimpleVerificationTypeInfo.INTEGER) {
                        wide.set(wide.size() - 1, null);
                    }
                }
                mapFrames.put(f.target(), wide);
            }
        });
    }

    /** Use weights of local slots: every access counts, 8 times more per enclosing loop. */
    long[] localWeights() {
        long[] weights = new long[code.maxLocals()];
        List<int[]> loops = new ArrayList<>();
        for (Element el : elements) {
            if (el.element instanceof BranchInstruction b) {
                int target = code.labelToBci(b.target());
                if (target <= el.bci) {
                    loops.add(new int[] {target, el.bci});
                }
            }
        }
        for (Element el : elements) {
            int slot = switch (el.element) {
                case LoadInstruction l -> l.slot();
                case StoreInstruction s -> s.slot();
                case IncrementInstruction i -> i.slot();
                default -> -1;
            };
            if (slot < 0) {
                continue;
            }
            long w = 1;
            for (int[] loop : loops) {
                if (el.bci >= loop[0] && el.bci <= loop[1] && w < (1L << 40)) {
                    w *= 8;
                }
            }
            weights[slot] += w;
        }
        return weights;
    }

    /**
     * Constant arrays indexed inside a loop, with their use weights (as localWeights counts
     * them) in arrayWeights: their base address is loop-invariant, so it may get a register
     * (a pseudo-local after the real locals) instead of an lea at every access.
     */
    List<FieldRef> loopArrays(long[] localWeights) {
        List<int[]> loops = new ArrayList<>();
        for (Element el : elements) {
            if (el.element instanceof BranchInstruction b && code.labelToBci(b.target()) <= el.bci) {
                loops.add(new int[] {code.labelToBci(b.target()), el.bci});
            }
        }
        List<FieldRef> arrays = new ArrayList<>();
        for (Element el : elements) {
            if (!(el.element instanceof FieldInstruction f) || f.opcode() != Opcode.GETSTATIC
                    || !f.type().stringValue().startsWith("[")) {
                continue;
            }
            FieldRef ref = new FieldRef(f.owner().asInternalName(), f.name().stringValue(), f.type().stringValue());
            long w = 1;
            for (int[] loop : loops) {
                if (el.bci >= loop[0] && el.bci <= loop[1] && w < (1L << 40)) {
                    w *= 8;
                }
            }
            if (w == 1 || !isConstantArray(ref)) {
                continue;
            }
            if (!arrayWeights.containsKey(ref)) {
                arrays.add(ref);
            }
            arrayWeights.merge(ref, w, Long::sum);
        }
        return arrays;
    }

    private boolean isConstantArray(FieldRef ref) {
        try {
            unit.constantArray(ref);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    boolean hasCalls() {
        for (Element el : elements) {
            if (el.element instanceof InvokeInstruction inv && inv.opcode() == Opcode.INVOKESTATIC) {
                String owner = inv.owner().asInternalName();
                if (!owner.startsWith(INTRINSIC_PACKAGE) || Intrinsics.isCall(owner, inv.name().stringValue())) {
                    return true;
                }
            }
        }
        return false;
    }
}
