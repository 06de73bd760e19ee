package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SectionPlacement;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.ExecutableMemory;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;

/**
 * Kernel classes compiled by JavaSubsetCompiler and loaded into executable memory of this
 * x86-64 process, callable from any number of host threads at once: the compiled code itself,
 * with its real LOCK-prefixed instructions and PAUSE loops, runs on the host's cores. Only for
 * Kernel routines the code calls (external symbols: Asm.call targets, console) are bound to Java
 * host routines through FFM upcall stubs (arguments rdi, rsi, rdx, rcx; result rax); a host routine
 * must not throw. The code stays mapped for the life of the test JVM: threads of a failed test
 * may still be executing it.
 */
public final class NativeKernelCode {
    private static final Linker LINKER = Linker.nativeLinker();

    private final CompiledUnit unit;
    private final MemorySegment region;
    private final SectionPlacement placement;

    /** A kernel routine's host version: up to four arguments, as Asm.call passes them. */
    @FunctionalInterface
    public interface HostRoutine {
        long call(long a, long b, long c, long d);
    }

    public NativeKernelCode(Class<?>... classes) {
        this(Map.of(), classes);
    }

    public NativeKernelCode(Map<String, HostRoutine> routines, Class<?>... classes) {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(NativeKernelCode.class.getClassLoader());
        for (Class<?> c : classes) {
            compiler.addClass(c);
        }
        unit = compiler.compile();
        Assembler a = unit.assembler();
        a.section("text");
        for (Map.Entry<String, Label> external : unit.externals().entrySet()) {
            HostRoutine routine = routines.get(external.getKey());
            if (routine == null) {
                throw new IllegalArgumentException("the code calls the kernel routine " + external.getKey()
                        + ": pass a HostRoutine for it");
            }
            a.bind(external.getValue());
            // A tail jump: the upcall stub returns straight to the compiled caller.
            a.mov(Reg.RAX, upcall(routine));
            a.jmp(Reg.RAX);
        }
        SectionPlacement offsets = new SectionPlacement(0);
        for (Section s : a.sections()) {
            offsets.append(s, 64);
        }
        region = ExecutableMemory.map(Math.max(4096, SectionPlacement.alignUp(offsets.end(), 4096)));
        placement = offsets.movedBy(region.address());
        for (Section s : a.sections()) {
            byte[] bytes = placement.linked(s);
            MemorySegment.copy(bytes, 0, region, ValueLayout.JAVA_BYTE, offsets.address(s), bytes.length);
        }
    }

    /** A handle calling the compiled static method (all overloads must share the descriptor). */
    public MethodHandle method(Class<?> owner, String name, String descriptor, FunctionDescriptor signature) {
        long address = placement.address(unit.method(owner.getName(), name, descriptor));
        return LINKER.downcallHandle(MemorySegment.ofAddress(address), signature);
    }

    private static long upcall(HostRoutine routine) {
        try {
            MethodHandle call = MethodHandles.lookup().findVirtual(HostRoutine.class, "call",
                    MethodType.methodType(long.class, long.class, long.class, long.class, long.class)).bindTo(routine);
            return LINKER.upcallStub(call, FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Arena.global()).address();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
