package dev.jkvm.klib.kernel.sched;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks TaskFrame against a real CPU: gcc assembles a context switch written from the
 * SchedArch contract alone (and a trampoline that reports the registers it arrives with, then
 * switches back), loaded into this JVM; the first switch to a frame TaskFrame built must arrive
 * in the trampoline with entry, argument and task in rbx, r12 and r13 and the stack aligned as
 * at a function entry, and the switch back must restore the caller intact.
 */
@NativeCode
class TaskFrameTest {
    private static final String SOURCE = """
            .text
            .globl sched_context_switch
            sched_context_switch:
            .Lswitch:
                test %rdx, %rdx
                jz 1f
                fxsave64 (%rdx)
            1:  push %rbp
                push %rbx
                push %r12
                push %r13
                push %r14
                push %r15
                mov %rsp, %rax
                mov %rsi, %rsp
                mov %rax, (%rdi)
                pop %r15
                pop %r14
                pop %r13
                pop %r12
                pop %rbx
                pop %rbp
                test %rcx, %rcx
                jz 2f
                fxrstor64 (%rcx)
            2:  ret

            .globl test_trampoline
            test_trampoline:
            .Ltrampoline:
                mov %rbx, observed(%rip)
                mov %r12, observed+8(%rip)
                mov %r13, observed+16(%rip)
                mov %rsp, observed+24(%rip)
                mov %rbp, observed+32(%rip)
                lea task_saved_rsp(%rip), %rdi
                mov host_saved_rsp(%rip), %rsi
                xor %edx, %edx
                xor %ecx, %ecx
                call .Lswitch
                ud2

            .globl trampoline_address
            trampoline_address:
                lea .Ltrampoline(%rip), %rax
                ret

            # rdi = the new task's saved RSP; returns once the task switched back.
            .globl first_switch
            first_switch:
                push %rbx
                push %r12
                mov $0x1234, %rbx
                mov $0x5678, %r12
                mov %rdi, %rsi
                lea host_saved_rsp(%rip), %rdi
                xor %edx, %edx
                xor %ecx, %ecx
                call .Lswitch
                mov %rbx, %rax
                shl $16, %rax
                or %r12, %rax
                pop %r12
                pop %rbx
                ret

            # rdi = FXSAVE area to load, rsi = where the CPU's resulting state is saved; the
            # caller's own FPU state is kept on the stack and put back.
            .globl fx_round_trip
            fx_round_trip:
                push %rbp
                mov %rsp, %rbp
                sub $512, %rsp
                and $-16, %rsp
                fxsave64 (%rsp)
                fxrstor64 (%rdi)
                fxsave64 (%rsi)
                fxrstor64 (%rsp)
                mov %rbp, %rsp
                pop %rbp
                ret

            .globl observed_at
            observed_at:
                lea observed(%rip), %rax
                mov (%rax,%rdi,8), %rax
                ret

            .data
            .balign 8
            observed: .quad 0, 0, 0, 0, 0
            host_saved_rsp: .quad 0
            task_saved_rsp: .quad 0
            .section .note.GNU-stack,"",@progbits
            """;

    private static Path directory;
    private static Arena arena;
    private static MethodHandle firstSwitch;
    private static MethodHandle trampolineAddress;
    private static MethodHandle observedAt;
    private static MethodHandle fxRoundTrip;

    @BeforeAll
    static void buildReferenceSwitch() throws Exception {
        directory = Files.createTempDirectory("sched-switch");
        Path source = directory.resolve("switch.S");
        Path library = directory.resolve("libswitch.so");
        Files.writeString(source, SOURCE, StandardCharsets.UTF_8);
        Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", library.toString(), source.toString())
                .redirectErrorStream(true).start();
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new AssertionError("gcc failed:\n" + output);
        }
        arena = HostArena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
        Linker linker = Linker.nativeLinker();
        firstSwitch = linker.downcallHandle(lookup.find("first_switch").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        trampolineAddress = linker.downcallHandle(lookup.find("trampoline_address").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        fxRoundTrip = linker.downcallHandle(lookup.find("fx_round_trip").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        observedAt = linker.downcallHandle(lookup.find("observed_at").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (arena != null) {
            arena.close();
        }
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }

    @Test
    void theFirstSwitchToANewTaskLandsInTheTrampolineWithItsArguments() throws Throwable {
        long stackBase = arena.allocate(16 * 1024, 4096).address();
        long stackTop = stackBase + 16 * 1024 - 24;
        long entry = 0x7EAD_0001L;
        long argument = 0xA26_0002L;
        long task = 0x7A5C_0003L;
        long rsp = TaskFrame.build(stackTop, (long) trampolineAddress.invokeExact(), entry, argument, task);
        long callerRegisters = (long) firstSwitch.invokeExact(rsp);
        assertEquals((0x1234L << 16) | 0x5678L, callerRegisters, "callee-saved registers survive the round trip");
        assertEquals(entry, (long) observedAt.invokeExact(0L), "rbx = entry");
        assertEquals(argument, (long) observedAt.invokeExact(1L), "r12 = argument");
        assertEquals(task, (long) observedAt.invokeExact(2L), "r13 = task");
        long trampolineRsp = (long) observedAt.invokeExact(3L);
        assertEquals(8, trampolineRsp & 15, "rsp is 8 mod 16 at the trampoline, as after a call");
        assertEquals((stackTop & ~15L) - 8, trampolineRsp);
        assertEquals(0, (long) observedAt.invokeExact(4L), "rbp = 0 ends the frame chain");
    }

    @Test
    void aUserTasksFirstFpuStateLoadsOnTheRealCpu() throws Throwable {
        long task = arena.allocate(Task.SIZE, 64).address();
        long area = arena.allocate(Scheduler.FXSAVE_SIZE, 16).address();
        long saved = arena.allocate(Scheduler.FXSAVE_SIZE, 16).address();
        for (int offset = 0; offset < Scheduler.FXSAVE_SIZE; offset += 8) {
            Memory.store64(area + offset, -1L);
        }
        Scheduler.makeUser(task, 0x1000, 0x40_0000, 0x7FFF_F000L, area);
        // FXRSTOR faults on reserved MXCSR bits (Intel SDM Vol. 2A FXRSTOR), so getting here is the check.
        fxRoundTrip.invokeExact(area, saved);
        assertEquals(Scheduler.INITIAL_FCW, Memory.load16(saved + Scheduler.FXSAVE_FCW) & 0xFFFF);
        assertEquals(Scheduler.INITIAL_MXCSR, Memory.load32(saved + Scheduler.FXSAVE_MXCSR));
        assertEquals(Task.FLAG_USER, Memory.load32(task + Task.FLAGS) & Task.FLAG_USER);
    }
}
