package dev.jkvm.klib.compiler;

import java.lang.classfile.Instruction;
import java.lang.classfile.instruction.LabelTarget;

/**
 * Where translation is in a method's code elements (MethodAnalysis): the current element's
 * index, bytecode index and source line, and the look-ahead that fused patterns (compare and
 * branch, scaled address, rotate, masked load) use to consume the instructions after it.
 */
final class InstructionCursor {
    private final MethodAnalysis analysis;
    /** The current element. */
    int index;
    /** Bytecode index of the instruction errors are reported at. */
    int bci;
    /** Source line of the current element, or -1 before the first line number. */
    int line = -1;

    InstructionCursor(MethodAnalysis analysis) {
        this.analysis = analysis;
    }

    /** Makes element index the current one, with its bytecode index and line; returns it. */
    MethodAnalysis.Element enter() {
        MethodAnalysis.Element el = analysis.elements.get(index);
        bci = el.bci();
        line = el.line();
        return el;
    }

    /** Makes element i current, its instructions consumed with the current line's (a fused pattern). */
    void skipTo(int i) {
        index = i;
        bci = analysis.elements.get(i).bci();
    }

    /** Index of the next instruction or label after element i (line numbers and the like skipped). */
    int following(int i) {
        int j = i + 1;
        while (j < analysis.elements.size() && !(analysis.elements.get(j).element() instanceof Instruction)
                && !(analysis.elements.get(j).element() instanceof LabelTarget lt && analysis.branchTargets.contains(lt.label()))) {
            j++;
        }
        return j;
    }

    /** The instruction at element i, or null when i is past the end or a label. */
    Instruction instructionAt(int i) {
        return i < analysis.elements.size() && analysis.elements.get(i).element() instanceof Instruction ins ? ins : null;
    }

    /** The instruction right after the current one, or null when a label (a join point) comes first. */
    Instruction nextInstruction() {
        int i = following(index);
        if (i < analysis.elements.size() && analysis.elements.get(i).element() instanceof Instruction ins) {
            return ins;
        }
        return null;
    }
}
