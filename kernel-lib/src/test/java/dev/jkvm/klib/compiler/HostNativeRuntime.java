package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SectionPlacement;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Runs a CompiledUnit natively in this (x86-64 Linux) process: adds host versions of the kernel
 * runtime routines, lays all sections out in one mmap'd read-write-execute region, applies the
 * relocations and calls methods through FFM downcalls. Calls go through an entry trampoline
 * that saves the callee-saved registers and rsp, so that a panic routine can abandon the
 * compiled code (like longjmp) and report which site panicked.
 */
final class HostNativeRuntime implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();

    /** What the last call did: returned normally, or panicked with a kind, site and index. */
    record Outcome(long value, String panic, String site, int index) {
        boolean panicked() {
            return panic != null;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final CompiledUnit unit;
    private final SectionPlacement placement;
    private final MemorySegment region;
    private final long regionSize;
    private final Label enter = new Label("test_enter");
    private final Label cellTarget = new Label();
    private final Label cellSavedRsp = new Label();
    private final Label cellPanicKind = new Label();
    private final Label cellPanicSite = new Label();
    private final Label cellPanicIndex = new Label();
    private final Label cellPrint = new Label();
    private final Label cellPrintHex = new Label();
    private final StringBuilder console = new StringBuilder();

    HostNativeRuntime(CompiledUnit unit, Map<String, java.util.function.Consumer<Assembler>> extraRoutines) {
        this.unit = unit;
        Assembler a = unit.assembler();
        a.section("hostcells", Section.Kind.DATA);
        for (Label cell : List.of(cellTarget, cellSavedRsp, cellPanicKind, cellPanicSite, cellPanicIndex,
                cellPrint, cellPrintHex)) {
            a.align(8);
            a.bind(cell);
            a.dq(0);
        }
        a.section("hosttext", Section.Kind.CODE);
        Label resume = new Label();
        a.align(16);
        a.bind(enter);
        a.push(Reg.RBP).mov(Reg.RBP, Reg.RSP);
        a.push(Reg.RBX).push(Reg.R12).push(Reg.R13).push(Reg.R14).push(Reg.R15).sub(Reg.RSP, 8);
        a.mov(Mem.rip(cellSavedRsp).m64(), Reg.RSP);
        a.mov(Reg.RAX, Mem.rip(cellTarget).m64());
        a.call(Reg.RAX);
        a.bind(resume);
        a.add(Reg.RSP, 8).pop(Reg.R15).pop(Reg.R14).pop(Reg.R13).pop(Reg.R12).pop(Reg.RBX).pop(Reg.RBP).ret();
        Map<String, Label> externals = unit.externals();
        for (Map.Entry<String, Label> e : externals.entrySet()) {
            Label label = e.getValue();
            switch (e.getKey()) {
                case SymbolNames.PANIC_DIVIDE_BY_ZERO, SymbolNames.PANIC_ARRAY_INDEX -> {
                    a.bind(label);
                    a.mov(Mem.rip(cellPanicSite).m64(), Reg.RDI);
                    a.mov(Mem.rip(cellPanicIndex).m64(), Reg.RSI);
                    a.mov(Mem.rip(cellPanicKind).m64(),
                            e.getKey().equals(SymbolNames.PANIC_DIVIDE_BY_ZERO) ? 1 : 2);
                    a.mov(Reg.RSP, Mem.rip(cellSavedRsp).m64());
                    a.mov(Reg.EAX, 0);
                    a.jmp(resume);
                }
                case SymbolNames.CONSOLE_PRINT -> {
                    a.bind(label);
                    a.jmp(Mem.rip(cellPrint).m64());
                }
                case SymbolNames.CONSOLE_PRINT_HEX -> {
                    a.bind(label);
                    a.jmp(Mem.rip(cellPrintHex).m64());
                }
                default -> {
                    java.util.function.Consumer<Assembler> body = extraRoutines.get(e.getKey());
                    if (body == null) {
                        throw new IllegalArgumentException("no host routine for external symbol " + e.getKey());
                    }
                    a.bind(label);
                    body.accept(a);
                }
            }
        }
        SectionPlacement offsets = new SectionPlacement(0);
        for (Section s : a.sections()) {
            offsets.append(s, 16);
        }
        regionSize = Math.max(4096, SectionPlacement.alignUp(offsets.end(), 4096));
        region = ExecutableMemory.map(regionSize);
        placement = offsets.movedBy(region.address());
        for (Section s : a.sections()) {
            byte[] bytes = placement.linked(s);
            MemorySegment.copy(bytes, 0, region, ValueLayout.JAVA_BYTE, offsets.address(s), bytes.length);
        }
        try {
            MethodHandle print = MethodHandles.lookup().findVirtual(HostNativeRuntime.class, "print",
                    MethodType.methodType(void.class, MemorySegment.class, long.class)).bindTo(this);
            MethodHandle printHex = MethodHandles.lookup().findVirtual(HostNativeRuntime.class, "printHex",
                    MethodType.methodType(void.class, long.class)).bindTo(this);
            setCell(cellPrint, LINKER.upcallStub(print,
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), arena).address());
            setCell(cellPrintHex, LINKER.upcallStub(printHex,
                    FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG), arena).address());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private void print(MemorySegment bytes, long length) {
        byte[] b = bytes.reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
        console.append(new String(b, StandardCharsets.UTF_8));
    }

    private void printHex(long value) {
        console.append(String.format("0x%016x", value));
    }

    String consoleOutput() {
        return console.toString();
    }

    long addressOf(Label label) {
        return placement.address(label);
    }

    private void setCell(Label cell, long value) {
        region.set(ValueLayout.JAVA_LONG, addressOf(cell) - region.address(), value);
    }

    private long cell(Label cell) {
        return region.get(ValueLayout.JAVA_LONG, addressOf(cell) - region.address());
    }

    /** Reads a static field's current value in the native data section. */
    long staticFieldValue(FieldRef field, int bytes) {
        long offset = addressOf(unit.staticFields().get(field)) - region.address();
        return switch (bytes) {
            case 1 -> region.get(ValueLayout.JAVA_BYTE, offset);
            case 2 -> region.get(ValueLayout.JAVA_SHORT, offset);
            case 4 -> region.get(ValueLayout.JAVA_INT, offset);
            default -> region.get(ValueLayout.JAVA_LONG, offset);
        };
    }

    /** Calls a compiled method (at most 6 arguments) through the panic-catching trampoline. */
    Outcome call(Label method, Class<?> returnType, Class<?>[] parameterTypes, Object... args) {
        ValueLayout[] layouts = new ValueLayout[parameterTypes.length];
        for (int i = 0; i < layouts.length; i++) {
            layouts[i] = layout(parameterTypes[i]);
        }
        FunctionDescriptor fd = returnType == void.class ? FunctionDescriptor.ofVoid(layouts)
                : FunctionDescriptor.of(layout(returnType), layouts);
        MethodHandle h = LINKER.downcallHandle(MemorySegment.ofAddress(addressOf(enter)), fd);
        setCell(cellTarget, addressOf(method));
        setCell(cellPanicKind, 0);
        Object result;
        try {
            result = h.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        long kind = cell(cellPanicKind);
        if (kind != 0) {
            MemorySegment site = MemorySegment.ofAddress(cell(cellPanicSite)).reinterpret(4096);
            return new Outcome(0, kind == 1 ? "divide by zero" : "array index", site.getString(0),
                    (int) cell(cellPanicIndex));
        }
        return new Outcome(toLong(result), null, null, 0);
    }

    /** Calls a compiled method directly (no trampoline; no panic recovery), any argument count. */
    Object callDirect(Label method, FunctionDescriptor fd, Object... args) {
        MethodHandle h = LINKER.downcallHandle(MemorySegment.ofAddress(addressOf(method)), fd);
        try {
            return h.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static long toLong(Object result) {
        return switch (result) {
            case null -> 0;
            case Boolean b -> b ? 1 : 0;
            case Character c -> c;
            case Number n -> n.longValue();
            default -> throw new IllegalStateException(result.toString());
        };
    }

    static ValueLayout layout(Class<?> type) {
        if (type == int.class) {
            return ValueLayout.JAVA_INT;
        } else if (type == long.class) {
            return ValueLayout.JAVA_LONG;
        } else if (type == short.class) {
            return ValueLayout.JAVA_SHORT;
        } else if (type == char.class) {
            return ValueLayout.JAVA_CHAR;
        } else if (type == byte.class) {
            return ValueLayout.JAVA_BYTE;
        } else if (type == boolean.class) {
            return ValueLayout.JAVA_BOOLEAN;
        }
        throw new IllegalArgumentException(type.toString());
    }

    @Override
    public void close() {
        ExecutableMemory.unmap(region, regionSize);
        arena.close();
    }
}
