package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.lang.classfile.Attributes;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.instruction.ArrayLoadInstruction;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.NopInstruction;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.StackInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates one static method's bytecode to x86-64 in a single pass over the instructions.
 *
 * The JVM operand stack is simulated at compile time (OperandStack): constants and local reads
 * stay symbolic until used, computed values live in the stack depth's home register
 * (FrameLayout). At every branch and branch target the stack is brought to its canonical
 * homes, so all paths into a label agree on where each value is. Locals live in the registers
 * FrameLayout assigned. Runtime checks (divide by zero, array bounds) branch to out-of-line
 * stubs at the end of the method that call the kernel's panic routine with the source site.
 *
 * This class drives the pass (MethodAnalysis first, then each element at the InstructionCursor)
 * and lowers loads, stores, returns, calls, fields and array reads itself; operators and
 * conversions go to ArithmeticLowering, branches to BranchLowering, switches to
 * SwitchLowering, calls to the rt package to Intrinsics.
 */
final class MethodTranslator {

    final UnitBuilder unit;
    final Assembler a;
    private final MethodModel method;
    final MethodAnalysis analysis;
    final InstructionCursor cursor;
    private final CodeAttribute code;
    final MethodRef self;
    private final String siteName;

    private final Map<Integer, FieldRef> arrayLocals = new HashMap<>();
    private final Map<java.lang.classfile.Label, List<StackValue>> jumpStates = new HashMap<>();
    private final Map<Integer, Label> divideByZeroStubs = new HashMap<>();
    private final List<Runnable> stubs = new ArrayList<>();
    /** The line table of this method's code (SourceLine), in address order. */
    private final List<SourceLine> sourceLines = new ArrayList<>();
    private final String frameName;
    private int recordedLine = Integer.MIN_VALUE;
    /** Pseudo-local slot of each constant array whose base may live in a register (see MethodAnalysis.loopArrays). */
    private final Map<FieldRef, Integer> arrayBaseSlots = new LinkedHashMap<>();
    final OperandStack stack;
    private final SwitchLowering switches;
    final ArithmeticLowering arithmetic;
    final BranchLowering branches;
    FrameLayout frame;
    /** Whether the code being emitted can run: false after a jump until a label that is jumped to. */
    boolean reachable = true;
    private final int stackEntries;
    private int maxEntriesSeen;

    /**
     * @param assembler    where the code goes (a scratch assembler for a measuring pass)
     * @param stackEntries the most operand stack entries the method ever holds, as measured by
     *                     a previous pass, or -1 to assume max_stack (which counts a long twice)
     */
    MethodTranslator(UnitBuilder unit, Assembler assembler, MethodRef self, MethodModel method, int stackEntries) {
        this.unit = unit;
        this.a = assembler;
        this.stackEntries = stackEntries;
        this.self = self;
        this.stack = new OperandStack(assembler, this::violation);
        this.switches = new SwitchLowering(assembler, stack, this::target);
        this.method = method;
        this.siteName = self.owner().replace('/', '.') + "." + self.name();
        this.frameName = siteName + "(" + method.parent()
                .flatMap(c -> c.findAttribute(Attributes.sourceFile()))
                .map(f -> f.sourceFile().stringValue()).orElse("Unknown Source");
        if (method.flags().has(AccessFlag.SYNCHRONIZED)) {
            throw violationAt(-1, -1, "is synchronized: kernel code has no monitors; use Atomic to build a lock");
        }
        if (!method.flags().has(AccessFlag.STATIC)) {
            throw violationAt(-1, -1, "is not static: only static methods compile to kernel code");
        }
        this.code = (CodeAttribute) method.code().orElseThrow(() -> violationAt(-1, -1,
                "has no bytecode (abstract or native): give it a static Java body"));
        if (!code.exceptionHandlers().isEmpty()) {
            throw violationAt(-1, -1, "has a try/catch/finally: kernel code has no exceptions");
        }
        this.analysis = new MethodAnalysis(code, unit);
        this.cursor = new InstructionCursor(analysis);
        this.arithmetic = new ArithmeticLowering(this);
        this.branches = new BranchLowering(this);
    }

    // ------------------------------------------------------------------ errors

    private SubsetViolation violationAt(int atBci, int atLine, String problem) {
        return new SubsetViolation(self.owner().replace('/', '.'), self.name() + self.descriptor(),
                atBci, atLine, problem);
    }

    SubsetViolation violation(String problem) {
        return violationAt(cursor.bci, cursor.line, problem);
    }

    /** The site text a panic reports: "Class.method line N". */
    String site() {
        return siteName + " line " + (cursor.line < 0 ? "?" : Integer.toString(cursor.line));
    }

    // ------------------------------------------------------------------ driver

    void translate(Label entry) {
        MethodTypeDesc type = method.methodTypeSymbol();
        int[] parameterSlots = new int[type.parameterCount()];
        boolean[] parameterWide = new boolean[type.parameterCount()];
        int slot = 0;
        for (int p = 0; p < type.parameterCount(); p++) {
            TypeKind k = TypeKind.from(type.parameterType(p));
            if (k != TypeKind.INT && k != TypeKind.LONG && k != TypeKind.BYTE && k != TypeKind.SHORT
                    && k != TypeKind.CHAR && k != TypeKind.BOOLEAN) {
                throw violationAt(-1, -1, "has a parameter of type " + type.parameterType(p).displayName()
                        + ": only int, long, short, char, byte and boolean parameters are allowed");
            }
            parameterSlots[p] = slot;
            parameterWide[p] = k == TypeKind.LONG;
            slot += k.slotSize();
        }
        TypeKind ret = TypeKind.from(type.returnType());
        if (ret == TypeKind.REFERENCE || ret == TypeKind.FLOAT || ret == TypeKind.DOUBLE) {
            throw violationAt(-1, -1, "returns " + type.returnType().displayName()
                    + ": only primitive integer results and void are allowed");
        }
        long[] localWeights = analysis.localWeights();
        List<FieldRef> loopArrays = analysis.loopArrays(localWeights);
        long[] weights = Arrays.copyOf(localWeights, code.maxLocals() + loopArrays.size());
        for (FieldRef array : loopArrays) {
            arrayBaseSlots.put(array, code.maxLocals() + arrayBaseSlots.size());
            weights[arrayBaseSlots.get(array)] = analysis.arrayWeights.get(array);
        }
        frame = new FrameLayout(weights.length, stackEntries >= 0 ? stackEntries : code.maxStack(),
                weights, parameterSlots, analysis.hasCalls(), code.maxLocals());
        stack.layout(frame);

        a.bind(entry);
        recordLine(entry, firstLine());
        prologue(parameterSlots, parameterWide);
        for (cursor.index = 0; cursor.index < analysis.elements.size(); cursor.index++) {
            MethodAnalysis.Element el = cursor.enter();
            switch (el.element()) {
                case LabelTarget lt -> enterLabel(lt.label());
                case Instruction ins -> {
                    if (reachable) {
                        if (cursor.line != recordedLine) {
                            Label here = new Label();
                            a.bind(here);
                            recordLine(here, cursor.line);
                        }
                        instruction(ins);
                        maxEntriesSeen = Math.max(maxEntriesSeen, stack.size());
                    }
                }
                default -> {
                }
            }
        }
        if (reachable) {
            throw violation("falls off the end of the method");
        }
        for (int i = 0; i < stubs.size(); i++) {
            stubs.get(i).run();
        }
        Label end = new Label();
        a.bind(end);
        sourceLines.add(new SourceLine(end, null, -1));
    }

    private void recordLine(Label at, int atLine) {
        sourceLines.add(new SourceLine(at, frameName, atLine));
        recordedLine = atLine;
    }

    /** The line of the method's first instruction (its prologue is charged to it), or -1. */
    private int firstLine() {
        for (MethodAnalysis.Element el : analysis.elements) {
            if (el.element() instanceof Instruction) {
                return el.line();
            }
        }
        return -1;
    }

    /** The line table of the translated code (SourceLine), ending with the method's end. */
    List<SourceLine> sourceLines() {
        return sourceLines;
    }

    /** The most operand stack entries seen during translate (a long counts once). */
    int maxStackEntries() {
        return maxEntriesSeen;
    }

    private void prologue(int[] parameterSlots, boolean[] parameterWide) {
        a.push(Reg.RBP);
        a.mov(Reg.RBP, Reg.RSP);
        for (Reg r : frame.savedRegisters()) {
            a.push(r);
        }
        if (frame.extraFrameBytes() > 0) {
            a.sub(Reg.RSP, frame.extraFrameBytes());
        }
        List<ParallelMove.Move> moves = new ArrayList<>();
        for (int p = 0; p < parameterSlots.length; p++) {
            Operand.Location home = frame.localHome(parameterSlots[p]);
            if (home == null) {
                continue;
            }
            int bits = parameterWide[p] ? 64 : 32;
            Operand arrival = p < CallingConvention.ARGUMENT_REGISTERS.size()
                    ? Operand.of(CallingConvention.ARGUMENT_REGISTERS.get(p))
                    : Operand.of(Mem.at(Reg.RBP, 16 + 8L * (p - CallingConvention.ARGUMENT_REGISTERS.size())));
            switch (home) {
                case Operand.InRegister(Reg r) -> moves.add(new ParallelMove.Move(r, arrival, bits));
                case Operand.InMemory m -> stack.move(m, arrival, bits);
            }
        }
        ParallelMove.emit(a, moves);
        // After the parameter moves, which may read registers the array bases take.
        for (Map.Entry<FieldRef, Integer> array : arrayBaseSlots.entrySet()) {
            if (frame.localHome(array.getValue()) instanceof Operand.InRegister(Reg base)) {
                a.lea(base.withBits(64), Mem.rip(unit.constantArray(array.getKey()).label()));
            }
        }
    }

    private void epilogue() {
        if (frame.extraFrameBytes() > 0) {
            a.add(Reg.RSP, frame.extraFrameBytes());
        }
        List<Reg> saved = frame.savedRegisters();
        for (int i = saved.size() - 1; i >= 0; i--) {
            a.pop(saved.get(i));
        }
        a.pop(Reg.RBP);
        a.ret();
    }

    private void enterLabel(java.lang.classfile.Label label) {
        Label target = analysis.labels.get(label);
        if (target == null) {
            return;
        }
        branches.enteredLoopHead(null);
        enterReachableLabel(label, target);
        if (reachable && stack.isEmpty() && analysis.backwardTargets.contains(label)) {
            branches.enteredLoopHead(label);
        }
    }

    private void enterReachableLabel(java.lang.classfile.Label label, Label target) {
        if (reachable) {
            // Falling into a label that jumps also reach: the same agreement rules as between jumps
            // (a string literal carried by a jump and another by the fall-through would otherwise
            // leave the fall-through's literal on the stack for both paths).
            List<StackValue> jumped = jumpStates.get(label);
            if (jumped != null) {
                checkStatesAgree(jumped, stack.snapshot());
            }
            stack.flush();
        } else {
            stack.clear();
            List<StackValue> jumped = jumpStates.get(label);
            if (jumped != null) {
                stack.addAll(jumped);
                reachable = true;
                a.bind(target);
                return;
            }
            if (!analysis.backwardTargets.contains(label)) {
                // Every jump here was folded away (constant condition): the code after it is dead.
                a.bind(target);
                return;
            }
            List<Boolean> frameStack = analysis.mapFrames.get(label);
            if (frameStack == null) {
                throw violation("has a branch target without a stack map frame (compile with javac)");
            }
            for (int d = 0; d < frameStack.size(); d++) {
                if (frameStack.get(d) == null) {
                    throw violation("keeps an object on the operand stack across a branch");
                }
                stack.push(StackValue.located(frame.stackHome(d), frameStack.get(d)));
            }
            reachable = true;
        }
        a.bind(target);
    }

    /**
     * The code label of a jump target; records the (flushed) stack state the jump carries there.
     * Constant arrays are compile-time values and may stay on the stack across a branch, as in
     * TABLE[c ? i : j], as long as every path brings the same array.
     */
    Label target(java.lang.classfile.Label label) {
        List<StackValue> state = stack.snapshot();
        List<StackValue> known = jumpStates.putIfAbsent(label, state);
        if (known != null) {
            checkStatesAgree(known, state);
        }
        return analysis.labels.get(label);
    }

    /** Two paths into one label must carry the same array references and the same string literals. */
    private void checkStatesAgree(List<StackValue> known, List<StackValue> state) {
        for (int i = 0; i < Math.min(known.size(), state.size()); i++) {
            StackValue k = known.get(i);
            StackValue v = state.get(i);
            // Two array references agree when they name the same field (records compare by value).
            if ((k instanceof StackValue.ArrayRef || v instanceof StackValue.ArrayRef) && !k.equals(v)) {
                throw violation("reaches one branch target with different arrays on the operand stack:"
                        + " select the index, not the array");
            }
            // The same literal on every path is fine (Asm.call's symbol below a conditional argument).
            if ((k instanceof StackValue.StringLiteral || v instanceof StackValue.StringLiteral) && !k.equals(v)) {
                throw violation("reaches one branch target with different string literals on the operand stack:"
                        + " call Console.print in each branch instead");
            }
        }
    }

    // ------------------------------------------------------------------ operands

    /**
     * Calls target with the given arguments under CallingConvention; pushes the result unless
     * resultBits is 0.
     */
    void call(Label target, List<StackValue> args, int resultBits) {
        stack.saveAcrossCall();
        int registerArgs = CallingConvention.ARGUMENT_REGISTERS.size();
        int stackArgs = Math.max(0, args.size() - registerArgs);
        int padding = (stackArgs % 2) * 8;
        if (padding > 0) {
            a.sub(Reg.RSP, padding);
        }
        for (int k = args.size() - 1; k >= registerArgs; k--) {
            switch (stack.operand(args.get(k))) {
                case Operand.InRegister(Reg r) -> a.push(r);
                case Operand.InMemory(Mem m) -> a.push(m.size(64));
                case Operand.Constant(long imm) when OperandStack.fitsInt(imm) -> a.push(imm);
                case Operand.Constant c -> {
                    stack.move(Reg.RAX, c, 64);
                    a.push(Reg.RAX);
                }
            }
        }
        List<ParallelMove.Move> moves = new ArrayList<>();
        for (int k = 0; k < Math.min(registerArgs, args.size()); k++) {
            moves.add(new ParallelMove.Move(CallingConvention.ARGUMENT_REGISTERS.get(k),
                    stack.operand(args.get(k)), args.get(k).bits()));
        }
        ParallelMove.emit(a, moves);
        a.call(target);
        if (stackArgs > 0) {
            a.add(Reg.RSP, 8L * stackArgs + padding);
        }
        if (resultBits != 0) {
            Reg r = stack.resultRegister(stack.size());
            stack.move(r, Reg.RAX, resultBits);
            stack.pushResult(r, resultBits == 64);
        }
    }

    /** Jumps (never returns) to a panic routine with the site text in rdi. */
    void callPanic(String symbol) {
        a.lea(Reg.RDI, Mem.rip(unit.string(site())));
        a.call(unit.external(symbol));
        a.ud2();
    }

    Label divideByZeroStub() {
        return divideByZeroStubs.computeIfAbsent(cursor.line, l -> {
            Label stub = new Label();
            Label message = unit.string(site());
            stubs.add(() -> {
                a.bind(stub);
                recordLine(stub, l);
                a.lea(Reg.RDI, Mem.rip(message));
                a.call(unit.external(SymbolNames.PANIC_DIVIDE_BY_ZERO));
                a.ud2();
            });
            return stub;
        });
    }

    // ------------------------------------------------------------------ instructions

    private void instruction(Instruction ins) {
        stack.hint(null);
        if (!(ins instanceof LoadInstruction || ins instanceof ConstantInstruction || ins instanceof BranchInstruction)) {
            branches.enteredLoopHead(null);
        }
        int operands = hintableOperandCount(ins);
        if (operands >= 0) {
            chooseResultHint(operands);
        }
        try {
            dispatch(ins);
        } finally {
            stack.hint(null);
        }
    }

    /**
     * How many stack entries an instruction that may compute straight into its consumer's
     * register pops, or -1 when it must use the stack home (calls and intrinsics use fixed
     * registers that a local's home could collide with).
     */
    private static int hintableOperandCount(Instruction ins) {
        return switch (ins) {
            case OperatorInstruction o -> switch (o.opcode()) {
                case INEG, LNEG, ARRAYLENGTH -> 1;
                default -> 2;
            };
            case ConvertInstruction c -> 1;
            case FieldInstruction f when f.opcode() == Opcode.GETSTATIC && !f.type().stringValue().startsWith("[") -> 0;
            case ArrayLoadInstruction al -> 2;
            default -> -1;
        };
    }

    /**
     * If the next instruction stores the result into a register-held local or returns it,
     * compute it there: "x = x - y" becomes one sub instead of mov, sub, mov.
     */
    private void chooseResultHint(int operands) {
        Instruction next = cursor.nextInstruction();
        if (next instanceof StoreInstruction st && (st.typeKind() == TypeKind.INT || st.typeKind() == TypeKind.LONG)
                && frame.localHome(st.slot()) instanceof Operand.InRegister(Reg home)) {
            int below = stack.size() - operands;
            for (int i = 0; i < below; i++) {
                StackValue v = stack.get(i);
                if (v instanceof StackValue.LocalRead(int slot, _) && slot == st.slot()) {
                    stack.materialize(i);
                }
            }
            stack.hint(home);
        } else if (next instanceof ReturnInstruction r && r.typeKind() != TypeKind.VOID) {
            stack.hint(Reg.RAX);
        }
    }

    private void dispatch(Instruction ins) {
        switch (ins) {
            case ConstantInstruction c -> constant(c);
            case LoadInstruction l -> load(l);
            case StoreInstruction s -> store(s);
            case IncrementInstruction i -> increment(i);
            case OperatorInstruction o -> arithmetic.operator(o);
            case ConvertInstruction c -> arithmetic.convert(c);
            case BranchInstruction b -> branches.branch(b);
            case TableSwitchInstruction t -> {
                switches.lower(t);
                reachable = false;
            }
            case LookupSwitchInstruction l -> {
                switches.lower(l);
                reachable = false;
            }
            case ReturnInstruction r -> doReturn(r);
            case InvokeInstruction i -> invoke(i);
            case FieldInstruction f -> field(f);
            case StackInstruction s -> stack.shuffle(s.opcode());
            case ArrayLoadInstruction al -> arrayLoad(al);
            case NopInstruction n -> {
            }
            default -> throw violation(Unsupported.describe(ins));
        }
    }

    private void constant(ConstantInstruction c) {
        Object value = c.constantValue();
        switch (value) {
            case Integer i -> stack.push(StackValue.constant(i, false));
            case Long l -> stack.push(StackValue.constant(l, true));
            case String s when c.opcode() == Opcode.LDC || c.opcode() == Opcode.LDC_W -> stack.push(StackValue.string(s));
            case null -> throw violation("uses null: kernel code has no object references");
            default -> throw violation("uses a " + value.getClass().getSimpleName()
                    + " constant: only int, long and string literals (for Console.print) are allowed");
        }
    }

    private void load(LoadInstruction l) {
        switch (l.typeKind()) {
            case INT -> stack.push(StackValue.local(l.slot(), false));
            case LONG -> stack.push(StackValue.local(l.slot(), true));
            case REFERENCE -> {
                FieldRef array = arrayLocals.get(l.slot());
                if (array == null) {
                    throw violation("loads an object reference from local " + l.slot()
                            + ": only static final constant arrays may be held in locals");
                }
                stack.push(StackValue.array(array));
            }
            default -> throw violation("loads a " + l.typeKind().name().toLowerCase()
                    + " local: the kernel subset has integers only");
        }
    }

    private void store(StoreInstruction s) {
        switch (s.typeKind()) {
            case INT, LONG -> {
                StackValue v = stack.pop();
                stack.materializeLocal(s.slot());
                if (v instanceof StackValue.LocalRead(int slot, _) && slot == s.slot()) {
                    return;
                }
                stack.move(frame.localHome(s.slot()), stack.operand(v), v.bits());
            }
            case REFERENCE -> {
                if (!(stack.pop() instanceof StackValue.ArrayRef(FieldRef array))) {
                    throw violation("stores an object reference in local " + s.slot()
                            + ": only static final constant arrays may be held in locals");
                }
                FieldRef previous = arrayLocals.putIfAbsent(s.slot(), array);
                if (previous != null && !previous.equals(array)) {
                    throw violation("stores two different arrays (" + previous + ", " + array
                            + ") in local " + s.slot() + ": use a separate method for each array");
                }
            }
            default -> throw violation("stores a " + s.typeKind().name().toLowerCase()
                    + " local: the kernel subset has integers only");
        }
    }

    private void increment(IncrementInstruction i) {
        stack.materializeLocal(i.slot());
        switch (frame.localHome(i.slot()).sized(32)) {
            case Operand.InRegister(Reg r) -> a.add(r, i.constant());
            case Operand.InMemory(Mem m) -> a.add(m, i.constant());
        }
    }

    // ------------------------------------------------------------------ control flow

    private void doReturn(ReturnInstruction r) {
        switch (r.typeKind()) {
            case VOID -> {
            }
            case INT, BYTE, SHORT, CHAR, BOOLEAN -> stack.move(Reg.RAX, stack.operand(stack.pop()), 32);
            case LONG -> stack.move(Reg.RAX, stack.operand(stack.pop()), 64);
            default -> throw violation(Unsupported.describe(r));
        }
        epilogue();
        stack.clear();
        reachable = false;
    }

    // ------------------------------------------------------------------ calls, fields, arrays

    private void invoke(InvokeInstruction inv) {
        MethodRef ref = new MethodRef(inv.owner().asInternalName(), inv.name().stringValue(),
                inv.type().stringValue());
        if (inv.opcode() != Opcode.INVOKESTATIC) {
            throw violation("calls " + ref + " with " + inv.opcode().name().toLowerCase()
                    + ": only static methods can be called (no objects, no virtual dispatch)");
        }
        if (ref.owner().startsWith(MethodAnalysis.INTRINSIC_PACKAGE)) {
            Intrinsics.emit(this, ref);
            return;
        }
        MethodTypeDesc type = inv.typeSymbol();
        refuseObjectSignature(ref, type);
        List<StackValue> args = stack.popArguments(type.parameterCount());
        Label callee;
        try {
            callee = unit.method(ref, self, frameName.substring(siteName.length()) + (cursor.line < 0 ? "" : ":" + cursor.line) + ")");
        } catch (IllegalArgumentException e) {
            throw violation(e.getMessage());
        }
        TypeKind ret = TypeKind.from(type.returnType());
        call(callee, args, ret == TypeKind.VOID ? 0 : ret == TypeKind.LONG ? 64 : 32);
    }

    /**
     * A call whose parameters or result are objects (String.valueOf(long), Long.toString) cannot
     * compile: named here as the call it is, before the callee is compiled or its result stored.
     */
    private void refuseObjectSignature(MethodRef ref, MethodTypeDesc type) {
        boolean objects = !type.returnType().isPrimitive();
        StringBuilder shown = new StringBuilder();
        for (int p = 0; p < type.parameterCount(); p++) {
            objects |= !type.parameterType(p).isPrimitive();
            shown.append(p == 0 ? "" : ", ").append(type.parameterType(p).displayName());
        }
        if (objects) {
            String owner = ref.owner().substring(ref.owner().lastIndexOf('/') + 1);
            throw violation("calls " + owner + "." + ref.name() + "(" + shown + ") returning "
                    + type.returnType().displayName() + ": only static methods over integers compile (int, long,"
                    + " short, char, byte, boolean parameters and results); compute it with integers, or print"
                    + " literals with Console.print");
        }
    }

    ConstantArray constantArray(FieldRef ref) {
        try {
            return unit.constantArray(ref);
        } catch (IllegalArgumentException e) {
            throw violation(e.getMessage());
        }
    }

    private void field(FieldInstruction f) {
        FieldRef ref = new FieldRef(f.owner().asInternalName(), f.name().stringValue(), f.type().stringValue());
        switch (f.opcode()) {
            case GETSTATIC -> {
                if (ref.descriptor().startsWith("[")) {
                    constantArray(ref);
                    stack.push(StackValue.array(ref));
                    return;
                }
                StaticSlot slot = staticSlot(ref);
                Reg r = stack.resultRegister(stack.size());
                boolean wide = slot.bits() == 64;
                loadExtended(r, slot.address(), slot.bits(), slot.signed());
                stack.pushResult(r, wide);
            }
            case PUTSTATIC -> {
                if (ref.descriptor().startsWith("[")) {
                    throw violation("assigns the array field " + ref
                            + ": arrays must be static final constants initialised in the declaration");
                }
                StaticSlot slot = staticSlot(ref);
                StackValue v = stack.pop();
                stack.move(Operand.of(slot.address()), stack.operand(v), slot.bits());
            }
            default -> throw violation("accesses the instance field " + ref
                    + ": kernel code has no objects; make it static");
        }
    }

    private StaticSlot staticSlot(FieldRef ref) {
        try {
            return unit.staticField(ref);
        } catch (IllegalArgumentException e) {
            throw violation(e.getMessage());
        }
    }

    /** r = memory value of the given width, sign- or zero-extended to 32 bits when narrower. */
    void loadExtended(Reg r, Mem address, int bits, boolean signed) {
        switch (bits) {
            case 64 -> a.mov(r.withBits(64), address.size(64));
            case 32 -> a.mov(r.withBits(32), address.size(32));
            default -> {
                if (signed) {
                    a.movsx(r.withBits(32), address.size(bits));
                } else {
                    a.movzx(r.withBits(32), address.size(bits));
                }
            }
        }
    }

    private void arrayLoad(ArrayLoadInstruction al) {
        StackValue indexValue = stack.pop();
        if (!(stack.pop() instanceof StackValue.ArrayRef(FieldRef array))) {
            throw violation("indexes an array that is not a static final constant array");
        }
        ConstantArray ca = constantArray(array);
        int scale = ca.elementBits() / 8;
        Reg r = stack.resultRegister(stack.size());
        boolean wide = ca.elementBits() == 64;
        if (indexValue instanceof StackValue.Constant(long i, _)) {
            if (i < 0 || i >= ca.length()) {
                a.mov(Reg.ESI, i);
                a.mov(Reg.EDX, ca.length());
                callPanic(SymbolNames.PANIC_ARRAY_INDEX);
                stack.push(StackValue.constant(0, wide));
                return;
            }
            loadExtended(r, Mem.rip(ca.label()).disp(i * scale), ca.elementBits(), ca.signed());
            stack.pushResult(r, wide);
            return;
        }
        stack.move(Reg.RCX, stack.operand(indexValue), 32);
        a.cmp(Reg.ECX, ca.length());
        Label outOfRange = new Label();
        a.jcc(Cond.AE, outOfRange);
        Label message = unit.string(site());
        int length = ca.length();
        int stubLine = cursor.line;
        stubs.add(() -> {
            a.bind(outOfRange);
            recordLine(outOfRange, stubLine);
            a.lea(Reg.RDI, Mem.rip(message));
            a.mov(Reg.ESI, Reg.ECX);
            a.mov(Reg.EDX, length);
            a.call(unit.external(SymbolNames.PANIC_ARRAY_INDEX));
            a.ud2();
        });
        Integer baseSlot = arrayBaseSlots.get(array);
        Reg base = Reg.RDX;
        if (baseSlot != null && frame.localHome(baseSlot) instanceof Operand.InRegister(Reg hoisted)) {
            base = hoisted.withBits(64);
        } else {
            a.lea(Reg.RDX, Mem.rip(ca.label()));
        }
        loadExtended(r, Mem.at(base).index(Reg.RCX, scale), ca.elementBits(), ca.signed());
        stack.pushResult(r, wide);
    }


}
