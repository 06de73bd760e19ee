package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.samples.KernelStyle;
import dev.jkvm.klib.compiler.samples.Privileged;
import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Intrinsics: the user-mode ones (memory, atomics, fences, console, assembler calls) run natively
 * and must match their host-JVM semantics byte for byte; the ring-0 ones and per-CPU fields
 * cannot run in a host process, so GNU objdump disassembles the compiled code as the oracle.
 */
@NativeCode
class IntrinsicCompilationTest {
    private static final String SCALE_ADD = "test_scale_add";

    @Test
    void userModeIntrinsicsMatchTheJvm() throws Throwable {
        CompiledUnit unit = new JavaSubsetCompiler(getClass().getClassLoader()).addClass(KernelStyle.class).compile();
        Asm.hostDefine(SCALE_ADD, args -> args[0] + args[1] * 4);
        Map<String, Consumer<Assembler>> routines = Map.of(SCALE_ADD, a -> {
            a.lea(Reg.RAX, Mem.at(Reg.RDI).index(Reg.RSI, 4));
            a.ret();
        });
        try (HostNativeRuntime runtime = new HostNativeRuntime(unit, routines); Arena arena = HostArena.ofConfined()) {
            MemorySegment jvmBuffer = arena.allocate(64, 8);
            MemorySegment nativeBuffer = arena.allocate(64, 8);
            for (int i = 0; i < 8; i++) {
                jvmBuffer.setAtIndex(ValueLayout.JAVA_LONG, i, i * 0x0101010101010101L - 5);
                nativeBuffer.setAtIndex(ValueLayout.JAVA_LONG, i, i * 0x0101010101010101L - 5);
            }
            long v = 0x7FFF_FFFF_0000_0001L;
            assertEquals(KernelStyle.sumWords(jvmBuffer.address(), 8),
                    call(runtime, unit, "sumWords", "(JI)J", nativeBuffer.address(), 8));
            KernelStyle.fillBytes(jvmBuffer.address(), 20, (byte) 120);
            call(runtime, unit, "fillBytes", "(JIB)V", nativeBuffer.address(), 20, (byte) 120);
            assertArrayEquals(jvmBuffer.toArray(ValueLayout.JAVA_BYTE), nativeBuffer.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(KernelStyle.mixedWidths(jvmBuffer.address(), -77),
                    call(runtime, unit, "mixedWidths", "(JI)I", nativeBuffer.address(), -77));
            assertArrayEquals(jvmBuffer.toArray(ValueLayout.JAVA_BYTE), nativeBuffer.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(KernelStyle.atomics(jvmBuffer.address() + 24, v),
                    call(runtime, unit, "atomics", "(JJ)J", nativeBuffer.address() + 24, v));
            assertArrayEquals(jvmBuffer.toArray(ValueLayout.JAVA_BYTE), nativeBuffer.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(KernelStyle.callsAssembly(-9, 1L << 40),
                    call(runtime, unit, "callsAssembly", "(JJ)J", -9L, 1L << 40));
            Console.hostClear();
            KernelStyle.greet(-5);
            call(runtime, unit, "greet", "(I)V", -5);
            assertEquals(Console.hostOutput(), runtime.consoleOutput());
        }
    }

    private static long call(HostNativeRuntime runtime, CompiledUnit unit, String name, String descriptor,
            Object... args) throws NoSuchMethodException {
        java.lang.invoke.MethodType type = java.lang.invoke.MethodType.fromMethodDescriptorString(descriptor,
                IntrinsicCompilationTest.class.getClassLoader());
        HostNativeRuntime.Outcome o = runtime.call(unit.method(KernelStyle.class.getName(), name, descriptor),
                type.returnType(), type.parameterArray(), args);
        assertTrue(!o.panicked(), name + " panicked");
        return o.value();
    }

    @Test
    void privilegedIntrinsicsAndPerCpuFieldsCompileToTheirInstructions() throws Exception {
        CompiledUnit unit = new JavaSubsetCompiler(getClass().getClassLoader()).addClass(Privileged.class).compile();
        Assembler a = unit.assembler();
        a.section("stubs", Section.Kind.CODE);
        for (Label external : unit.externals().values()) {
            a.bind(external);
            a.ret();
        }
        String serial = disassemble(unit, "serialStatus", "(I)I");
        for (String instruction : new String[] {"out    dx,al", "out    dx,ax", "out    dx,eax", "in     al,dx",
                "in     ax,dx", "in     eax,dx"}) {
            assertTrue(serial.contains(instruction), instruction + " missing in\n" + serial);
        }
        String msrs = disassemble(unit, "msrs", "(J)J");
        assertTrue(msrs.contains("wrmsr") && msrs.contains("rdmsr") && msrs.contains("0xc0000101"), msrs);
        String control = disassemble(unit, "controlRegisters", "(J)J");
        for (String instruction : new String[] {"mov    cr3,rax", "mov    cr4,rax", "cr4", "invlpg", "cr0", "cr2"}) {
            assertTrue(control.contains(instruction), instruction + " missing in\n" + control);
        }
        String flags = disassemble(unit, "cpuidAndFlags", "(I)I");
        for (String instruction : new String[] {"cli", "sti", "cpuid", "pause", "hlt", "push   rbx", "pop    rbx"}) {
            assertTrue(flags.contains(instruction), instruction + " missing in\n" + flags);
        }
        String perCpu = disassemble(unit, "perCpu", "(J)J");
        FieldRef ticks = new FieldRef(Privileged.class.getName().replace('.', '/'), "cpuTicks", "J");
        FieldRef number = new FieldRef(Privileged.class.getName().replace('.', '/'), "cpuNumber", "I");
        int ticksOffset = unit.perCpuOffsets().get(ticks);
        int numberOffset = unit.perCpuOffsets().get(number);
        assertTrue(perCpu.contains("QWORD PTR gs:0x" + Integer.toHexString(ticksOffset)), perCpu);
        assertTrue(perCpu.contains("DWORD PTR gs:0x" + Integer.toHexString(numberOffset)), perCpu);
        byte[] template = unit.perCpuTemplate().bytes();
        assertEquals(3, template[numberOffset], "initial value of the per-CPU field in the template");
    }

    /** GNU objdump's Intel-syntax listing of one compiled method. */
    private static String disassemble(CompiledUnit unit, String method, String descriptor)
            throws IOException, InterruptedException {
        Label entry = unit.method(Privileged.class.getName(), method, descriptor);
        long start = entry.offset();
        long end = unit.text().size();
        for (Label other : unit.methods().values()) {
            if (other.offset() > start && other.offset() < end) {
                end = other.offset();
            }
        }
        Path file = Files.createTempFile("klib-text", ".bin");
        try {
            Files.write(file, unit.text().bytes());
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                    "--start-address=" + start, "--stop-address=" + end, file.toString())
                    .redirectErrorStream(true).start();
            String listing = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), listing);
            return listing;
        } finally {
            Files.delete(file);
        }
    }
}
