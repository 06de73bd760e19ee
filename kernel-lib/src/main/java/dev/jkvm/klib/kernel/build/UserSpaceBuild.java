package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompileException;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.FieldRef;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.compiler.MethodRef;
import dev.jkvm.klib.compiler.SymbolNames;
import dev.jkvm.klib.kernel.user.Sys;
import dev.jkvm.klib.kernel.user.SyscallNumbers;
import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.workload.UserWorkload;
import dev.jkvm.klib.workload.WorkloadException;

import java.util.Map;

/**
 * The user-mode part of the image: UserPrograms and the image's workload method
 * (workload.UserWorkload) compiled as a unit of its own (its externals
 * prefixed so they cannot clash with the kernel's symbols), the system call stub Sys calls
 * (SYSCALL, proc.Syscalls), the
 * routines the compiled code needs (console output becomes the WRITE call; a runtime check that
 * fails executes UD2, so the task is killed with a report), and one entry stub per program that
 * calls it and passes its result to EXIT. A problem with the workload's code is a
 * WorkloadException naming its class and method. Every section ends page aligned and the image builder
 * puts each right after the kernel's section of the same kind, so user pages hold nothing of the
 * kernel's.
 */
final class UserSpaceBuild {
    private UserSpaceBuild() {
    }

    static final int PAGE = 4096;

    /** The program methods, in UserPrograms number order; null marks the workload's slot. */
    private static final String[] PROGRAMS = {
        "hello", null, "touchKernel", "divideByZero", "producer", "consumer", "sleeper", "spin",
    };

    /** divideByZero, arrayIndex: the routines the checks call, null when no code needs them. */
    record Labels(Assembler assembler, Label textEnd, Label rodataEnd, Label dataEnd, Label[] entries,
            java.util.List<dev.jkvm.klib.compiler.SourceLine> sourceLines, Label divideByZero, Label arrayIndex) {
    }

    /** kernel: the kernel's unit, whose methods and fields user code must not share (see below). */
    static Labels build(UserWorkload workload, CompiledUnit kernel) {
        if (PROGRAMS.length != UserPrograms.COUNT || PROGRAMS[UserPrograms.WORKLOAD] != null) {
            throw new IllegalStateException("UserSpaceBuild lists " + PROGRAMS.length + " programs, UserPrograms "
                    + UserPrograms.COUNT);
        }
        String workloadClass = workload.workloadClass().getName();
        String where = "workload " + workloadClass + "." + workload.methodName();
        ClassLoader loader = workload.workloadClass().getClassLoader();
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(loader != null ? loader : UserSpaceBuild.class.getClassLoader())
                .externalPrefix("user_");
        for (String program : PROGRAMS) {
            if (program != null) {
                compiler.addMethod(UserPrograms.class.getName(), program);
            }
        }
        compiler.addMethod(workloadClass, workload.methodName());
        CompiledUnit unit;
        try {
            unit = compiler.compile();
        } catch (CompileException | IllegalArgumentException e) {
            // IllegalArgumentException: a class the unit needs could not be read or initialised on the host.
            throw new WorkloadException(where + " cannot run in ring 3: " + e.getMessage(), e);
        }
        refuseKernelCode(where, unit, kernel);
        Assembler a = unit.assembler();
        a.section("text", Section.Kind.CODE);
        Map<String, Label> externals = unit.externals();
        // The gate: rdi = number, rsi, rdx, rcx = arguments -> rax, rdi, rsi, rdx (SyscallNumbers),
        // then SYSCALL, which overwrites rcx and r11 (the psABI lets a call clobber both).
        Label sysCall = externals.containsKey(Sys.SYSCALL) ? externals.get(Sys.SYSCALL) : new Label();
        a.align(16).bind(sysCall);
        a.mov(RAX, RDI).mov(RDI, RSI).mov(RSI, RDX).mov(RDX, RCX);
        a.syscall().ret();
        for (Map.Entry<String, Label> e : externals.entrySet()) {
            String name = e.getKey();
            if (name.equals(Sys.SYSCALL)) {
                continue;
            }
            a.align(16).bind(e.getValue());
            if (name.equals(SymbolNames.CONSOLE_PRINT)) {
                a.mov(RDX, RSI).mov(RSI, RDI).mov(EDI, SyscallNumbers.WRITE).jmp(sysCall);
            } else if (name.equals(SymbolNames.PANIC_DIVIDE_BY_ZERO) || name.equals(SymbolNames.PANIC_ARRAY_INDEX)) {
                a.ud2();
            } else {
                throw new WorkloadException(where + " cannot run in ring 3: it calls the kernel routine " + name
                        + ", which user mode does not have; use Console.print with a literal and the calls of "
                        + Sys.class.getName());
            }
        }
        Label[] entries = new Label[PROGRAMS.length];
        for (int i = 0; i < PROGRAMS.length; i++) {
            entries[i] = new Label("user_entry_" + (PROGRAMS[i] != null ? PROGRAMS[i] : "workload"));
            a.align(16).bind(entries[i]);
            a.xor(EBP, EBP);
            if (PROGRAMS[i] != null) {
                a.call(unit.method(UserPrograms.class.getName(), PROGRAMS[i], "()J"));
            } else {
                // The task's argument is its index: fetched with one system call, passed in rdi.
                a.mov(EDI, SyscallNumbers.ARGUMENT).call(sysCall).mov(RDI, RAX);
                a.call(unit.method(workloadClass, workload.methodName(), "(J)J"));
            }
            a.mov(RSI, RAX).mov(EDI, SyscallNumbers.EXIT).call(sysCall).ud2();
        }
        Label textEnd = new Label("user_text_end");
        Label rodataEnd = new Label("user_rodata_end");
        Label dataEnd = new Label("user_data_end");
        a.align(PAGE, 0xCC).bind(textEnd);
        a.section("rodata", Section.Kind.RODATA);
        a.db(0).align(PAGE).bind(rodataEnd);
        a.section("data", Section.Kind.DATA);
        a.db(0).align(PAGE).bind(dataEnd);
        for (Section s : a.sections()) {
            if (s.kind() == Section.Kind.BSS && s.size() > 0 || s.name().equals("percpu") && s.size() > 0) {
                throw new WorkloadException(where + " cannot run in ring 3: user code has " + s.name() + " ("
                        + s.size() + " bytes); ring-3 code may only use plain static fields, not @PerCpu ones");
            }
        }
        return new Labels(a, textEnd, rodataEnd, dataEnd, entries, unit.sourceLines(),
                externals.get(SymbolNames.PANIC_DIVIDE_BY_ZERO), externals.get(SymbolNames.PANIC_ARRAY_INDEX));
    }

    /**
     * A method or static field the kernel compiled too would get a second copy in user memory under
     * the same symbol: the two would clash in the image, and a field's copy would not be the
     * kernel's variable anyway. Ring-3 code keeps to its own classes.
     */
    private static void refuseKernelCode(String where, CompiledUnit user, CompiledUnit kernel) {
        for (MethodRef method : user.methods().keySet()) {
            if (kernel.methods().containsKey(method)) {
                throw new WorkloadException(where + " cannot run in ring 3: it calls the kernel's method " + method
                        + "; ring-3 code may only call its own classes, so copy what it needs into them");
            }
        }
        for (FieldRef field : user.staticFields().keySet()) {
            if (kernel.staticFields().containsKey(field)) {
                throw new WorkloadException(where + " cannot run in ring 3: it uses the kernel's static field " + field
                        + ", which ring 3 cannot reach; keep the workload's state in its own classes");
            }
        }
    }
}
