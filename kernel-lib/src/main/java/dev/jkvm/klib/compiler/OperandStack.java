package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.lang.classfile.Opcode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The JVM operand stack of the method being translated, simulated at compile time.
 *
 * Constants and local reads stay symbolic (StackValue) until an instruction uses them;
 * computed values live in the stack depth's home (FrameLayout). This class owns the entries,
 * where each one is now (operand), the moves that bring them to their homes (materialize,
 * flush) and out of caller-saved registers before a call (saveAcrossCall), and the JVM's
 * stack shuffles (dup, swap, pop).
 */
final class OperandStack {
    private final Assembler a;
    private final Function<String, SubsetViolation> violation;
    private final List<StackValue> entries = new ArrayList<>();
    private FrameLayout frame;
    /** Register the current instruction should leave its result in (a local's home, or rax), or null. */
    private Reg resultHint;

    /** @param violation makes the error for a problem at the instruction being translated */
    OperandStack(Assembler a, Function<String, SubsetViolation> violation) {
        this.a = a;
        this.violation = violation;
    }

    /** Sets the frame whose homes the entries live in; called once the layout is chosen. */
    void layout(FrameLayout frame) {
        this.frame = frame;
    }

    /** Sets the register the current instruction should leave its result in, or null for none. */
    void hint(Reg register) {
        resultHint = register;
    }

    int size() {
        return entries.size();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    StackValue get(int i) {
        return entries.get(i);
    }

    /** The top entry. */
    StackValue peek() {
        return entries.getLast();
    }

    void clear() {
        entries.clear();
    }

    /** Pushes the given entries, bottom first. */
    void addAll(List<StackValue> values) {
        entries.addAll(values);
    }

    /** The entries now, bottom first, as an unmodifiable copy. */
    List<StackValue> snapshot() {
        return List.copyOf(entries);
    }

    static boolean fitsInt(long v) {
        return v == (int) v;
    }

    /** Where the value is now: a register (64-bit name), memory (unsized) or a constant. */
    Operand operand(StackValue v) {
        return switch (v) {
            case StackValue.Constant(long value, _) -> Operand.of(value);
            case StackValue.LocalRead(int slot, _) -> frame.localHome(slot);
            case StackValue.Located(Operand.Location location, _) -> location;
            case StackValue.StringLiteral(String text) -> throw violation.apply("uses the string literal \"" + text
                    + "\" other than as the argument of Console.print or the symbol of Asm.call");
            case StackValue.ArrayRef(FieldRef array) -> throw violation.apply("uses the array " + array
                    + " other than by indexing it or taking its length");
        };
    }

    /** dst = src, bits wide; memory to memory goes through rax. */
    void move(Operand.Location dst, Operand src, int bits) {
        switch (dst) {
            case Operand.InRegister(Reg d) -> move(d, src, bits);
            case Operand.InMemory(Mem dm) -> {
                Mem m = dm.size(bits);
                switch (src) {
                    case Operand.InRegister(Reg s) -> a.mov(m, s.withBits(bits));
                    case Operand.Constant(long imm) when bits < 64 || fitsInt(imm) ->
                            a.mov(m, bits == 64 ? imm : narrow(imm, bits));
                    case Operand.Constant c -> {
                        move(Reg.RAX, c, bits);
                        a.mov(m, Reg.RAX.withBits(bits));
                    }
                    case Operand.InMemory s -> {
                        move(Reg.RAX, s, bits);
                        a.mov(m, Reg.RAX.withBits(bits));
                    }
                }
            }
        }
    }

    /** Register d (any name: the width comes from bits) = src, bits wide. */
    void move(Reg d, Operand src, int bits) {
        switch (src) {
            case Operand.InRegister(Reg s) -> {
                if (s.code() != d.code()) {
                    a.mov(d.withBits(bits == 64 ? 64 : 32), s.withBits(bits == 64 ? 64 : 32));
                }
            }
            case Operand.InMemory(Mem m) -> a.mov(d.withBits(bits), m.size(bits));
            case Operand.Constant(long imm) when bits == 64 && imm >= 0 && imm <= 0xFFFF_FFFFL ->
                    a.mov(d.withBits(32), imm); // writing the low half zero-extends
            case Operand.Constant(long imm) -> a.mov(d.withBits(bits == 64 ? 64 : 32), bits == 64 ? imm : (long) (int) imm);
        }
    }

    /** Register d = register s, bits wide (no instruction when they are the same register). */
    void move(Reg d, Reg s, int bits) {
        move(d, Operand.of(s), bits);
    }

    private static long narrow(long v, int bits) {
        return switch (bits) {
            case 8 -> (byte) v;
            case 16 -> (short) v;
            default -> (int) v;
        };
    }

    /** The register to compute the value of stack depth d in: its home, or rax for a frame home. */
    Reg resultRegister(int depth) {
        if (resultHint != null) {
            return resultHint;
        }
        return frame.stackHome(depth) instanceof Operand.InRegister(Reg r) ? r : Reg.RAX;
    }

    /** Pushes the value computed in register r (see resultRegister) as a new stack entry. */
    void pushResult(Reg r, boolean wide) {
        if (resultHint != null && r.code() == resultHint.code()) {
            entries.add(StackValue.located(Operand.of(resultHint), wide));
            return;
        }
        int depth = entries.size();
        Operand.Location home = frame.stackHome(depth);
        if (home instanceof Operand.InMemory(Mem m)) {
            a.mov(m.size(wide ? 64 : 32), r.withBits(wide ? 64 : 32));
        }
        entries.add(StackValue.located(home, wide));
    }

    StackValue pop() {
        return entries.removeLast();
    }

    void push(StackValue v) {
        entries.add(v);
    }

    /** The operand as a register: itself if it is one, else loaded into scratch. */
    Reg inRegister(Operand operand, int bits, Reg scratch) {
        return switch (operand) {
            case Operand.InRegister(Reg r) -> r;
            case Operand.InMemory m -> {
                move(scratch, m, bits);
                yield scratch;
            }
            case Operand.Constant c -> {
                move(scratch, c, bits);
                yield scratch;
            }
        };
    }

    /** Brings stack entry i to its home. */
    void materialize(int i) {
        StackValue v = entries.get(i);
        Operand.Location home = frame.stackHome(i);
        boolean moves = switch (v) {
            case StackValue.Located(Operand.Location at, _) -> !home.equals(at);
            case StackValue.Constant _, StackValue.LocalRead _ -> true;
            case StackValue.ArrayRef _, StackValue.StringLiteral _ -> false; // no value to hold: nothing to move
        };
        if (moves) {
            move(home, operand(v), v.bits());
            entries.set(i, StackValue.located(home, v.wide()));
        }
    }

    /** Brings every stack entry to its home: the state all paths into a label agree on. */
    void flush() {
        for (int i = 0; i < entries.size(); i++) {
            materialize(i);
        }
    }

    /** Copies deferred reads of a local into their stack homes before the local changes. */
    void materializeLocal(int slot) {
        for (int i = 0; i < entries.size(); i++) {
            StackValue v = entries.get(i);
            if (v instanceof StackValue.LocalRead(int read, _) && read == slot) {
                materialize(i);
            }
        }
    }

    /** Saves entries held in caller-saved registers to their frame slots before a call. */
    void saveAcrossCall() {
        for (int i = 0; i < entries.size(); i++) {
            StackValue v = entries.get(i);
            if (!isHeld(v)) {
                continue;
            }
            if (operand(v) instanceof Operand.InRegister(Reg r) && !CallingConvention.CALLEE_SAVED.contains(r)) {
                Mem slot = frame.stackSaveSlot(i);
                a.mov(slot.size(64), r);
                for (int j = i; j < entries.size(); j++) {
                    StackValue w = entries.get(j);
                    if (isHeld(w) && Operand.of(r).equals(operand(w))) {
                        entries.set(j, StackValue.located(Operand.of(slot), w.wide()));
                    }
                }
            }
        }
    }

    /** True for entries whose value sits in a register or memory: a located value or an unread local. */
    private static boolean isHeld(StackValue v) {
        return switch (v) {
            case StackValue.Located _, StackValue.LocalRead _ -> true;
            case StackValue.Constant _, StackValue.StringLiteral _, StackValue.ArrayRef _ -> false;
        };
    }

    /** Pops n arguments, returning them in call order. */
    List<StackValue> popArguments(int n) {
        List<StackValue> args = new ArrayList<>(entries.subList(entries.size() - n, entries.size()));
        for (int i = 0; i < n; i++) {
            pop();
        }
        return args;
    }

    /** Removes entries covering exactly n JVM stack slots from the top; returned bottom first. */
    private List<StackValue> takeSlots(int n) {
        List<StackValue> taken = new ArrayList<>();
        int slots = 0;
        while (slots < n) {
            StackValue v = pop();
            taken.addFirst(v);
            slots += v.wide() ? 2 : 1;
        }
        if (slots != n) {
            throw violation.apply("splits a long value with a stack instruction");
        }
        return taken;
    }

    void shuffle(Opcode op) {
        int base = entries.size();
        switch (op) {
            case POP -> takeSlots(1);
            case POP2 -> takeSlots(2);
            case DUP -> {
                List<StackValue> t = takeSlots(1);
                entries.addAll(t);
                entries.addAll(t);
            }
            case DUP2 -> {
                List<StackValue> t = takeSlots(2);
                entries.addAll(t);
                entries.addAll(t);
            }
            case DUP_X1, DUP_X2, DUP2_X1, DUP2_X2, SWAP -> {
                int top = op == Opcode.DUP2_X1 || op == Opcode.DUP2_X2 ? 2 : 1;
                int under = op == Opcode.DUP_X2 || op == Opcode.DUP2_X2 ? 2 : 1;
                List<StackValue> t1 = takeSlots(top);
                List<StackValue> t2 = takeSlots(under);
                base = entries.size();
                entries.addAll(t1);
                entries.addAll(t2);
                if (op != Opcode.SWAP) {
                    entries.addAll(t1);
                }
                normalize(base);
            }
            default -> throw violation.apply(Unsupported.describe(op));
        }
    }

    /**
     * After a shuffle, entries may sit in another depth's home; move them to their own homes,
     * reading all sources before writing any (through the machine entries).
     */
    private void normalize(int from) {
        List<Integer> moved = new ArrayList<>();
        for (int i = from; i < entries.size(); i++) {
            StackValue v = entries.get(i);
            if (v instanceof StackValue.Located(Operand.Location at, _) && !frame.stackHome(i).equals(at)) {
                switch (at) {
                    case Operand.InRegister(Reg r) -> a.push(r);
                    case Operand.InMemory(Mem m) -> a.push(m.size(64));
                }
                moved.add(i);
            }
        }
        for (int k = moved.size() - 1; k >= 0; k--) {
            int i = moved.get(k);
            Operand.Location home = frame.stackHome(i);
            switch (home) {
                case Operand.InRegister(Reg r) -> a.pop(r);
                case Operand.InMemory(Mem m) -> a.pop(m.size(64));
            }
            entries.set(i, StackValue.located(home, entries.get(i).wide()));
        }
    }
}
