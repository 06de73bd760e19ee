package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.sched.SchedArch;

import java.util.function.Function;

/**
 * The architecture half of the scheduler (sched.SchedArch's symbols): the context switch, the
 * trampoline a new task starts in, and the small accessors for the CPU id, TSS.RSP0 and CR3.
 */
final class SchedRoutines {
    private SchedRoutines() {
    }

    /** TSS.RSP0 is at byte 4 of the 64-bit TSS (Intel SDM Vol. 3A 8.7, Figure 8-11). */
    private static final int TSS_RSP0 = 4;

    /**
     * taskStart: the compiled TaskEntry.begin(task, entry, argument), which never returns.
     */
    static void emit(Assembler a, Function<String, Label> symbol, Label taskStart) {
        Label trampoline = new Label("klib_sched_task_trampoline");

        // CONTEXT_SWITCH (rdi = &prev.savedRsp, rsi = next.savedRsp, rdx = prev FXSAVE area,
        // rcx = next FXSAVE area), in the order SchedArch prescribes.
        LowLevelRoutines.routine(a, symbol, SchedArch.CONTEXT_SWITCH);
        Label noSave = new Label();
        Label noRestore = new Label();
        a.test(RDX, RDX).jcc(Cond.E, noSave);
        a.db(0x48, 0x0F, 0xAE, 0x02); // FXSAVE64 [rdx] (Intel SDM Vol. 2A: REX.W 0F AE /0)
        a.bind(noSave);
        a.push(RBP).push(RBX).push(R12).push(R13).push(R14).push(R15);
        // Publish prev's RSP only once this CPU is off prev's stack: that store releases prev.
        a.mov(RAX, RSP).mov(RSP, RSI).mov(Mem.at(RDI).m64(), RAX);
        a.pop(R15).pop(R14).pop(R13).pop(R12).pop(RBX).pop(RBP);
        a.test(RCX, RCX).jcc(Cond.E, noRestore);
        a.db(0x48, 0x0F, 0xAE, 0x09); // FXRSTOR64 [rcx] (REX.W 0F AE /1)
        a.bind(noRestore);
        a.ret();

        // TASK_TRAMPOLINE: rbx = entry, r12 = argument, r13 = task (TaskFrame).
        a.align(16).bind(trampoline);
        a.mov(RDI, R13).mov(RSI, RBX).mov(RDX, R12);
        a.call(taskStart);
        a.ud2();

        LowLevelRoutines.routine(a, symbol, SchedArch.TASK_TRAMPOLINE_ADDRESS);
        a.lea(RAX, Mem.rip(trampoline)).ret();

        LowLevelRoutines.routine(a, symbol, SchedArch.CURRENT_CPU);
        a.mov(EAX, Mem.abs(PerCpuArea.CPU_INDEX).seg(SegReg.GS).m32()).ret();

        LowLevelRoutines.routine(a, symbol, SchedArch.SET_KERNEL_STACK);
        a.mov(RAX, Mem.abs(PerCpuArea.TSS).seg(SegReg.GS).m64()).mov(Mem.at(RAX, TSS_RSP0).m64(), RDI).ret();

        LowLevelRoutines.routine(a, symbol, SchedArch.LOAD_ADDRESS_SPACE);
        Label same = new Label();
        a.mov(RAX, CtrlReg.CR3).cmp(RAX, RDI).jcc(Cond.E, same).mov(CtrlReg.CR3, RDI);
        a.bind(same).ret();
    }
}
