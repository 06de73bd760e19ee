package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Asm;

/**
 * Everything the scheduler needs from the architecture, as assembler routines called by symbol.
 * The kernel binds each symbol to its routine; host tests bind them with Asm.hostDefine (for
 * instance a context switch that only records which task runs on which CPU). The scheduler
 * itself never touches a register, the GS area, the TSS or the local APIC.
 *
 * Calling convention: that of compiled code (CallingConvention: System V, arguments in rdi,
 * rsi, rdx, rcx, result in rax, rbx/rbp/r12-r15 callee-saved).
 *
 * Interrupts: every scheduler entry point runs with RFLAGS.IF = 0 (the timer and IPI handlers
 * run that way; the blocking wrappers disable interrupts themselves), so a CPU id read with
 * currentCpu stays valid until the next switch, and a run queue lock is never wanted by an
 * interrupt handler on the CPU that holds it.
 *
 * CONTEXT_SWITCH (rdi = prevSavedRspAddress, rsi = nextSavedRsp, rdx = prevFpuArea,
 * rcx = nextFpuArea). Called with IF = 0, returns with IF = 0, when prev is switched back in.
 * <ol>
 * <li>If prevFpuArea != 0: FXSAVE64 [prevFpuArea] (Intel SDM Vol. 2A FXSAVE; 512 bytes,
 *     16-byte aligned).</li>
 * <li>Push rbp, rbx, r12, r13, r14, r15 (in that order) on prev's kernel stack.</li>
 * <li>Move rsp into a scratch register, load rsi into rsp, and only then store the scratch
 *     register to [rdi] with one 8-byte MOV. The scheduler reads a non-zero saved RSP as
 *     "prev has left its stack": another CPU may switch to prev the moment the store is
 *     visible, so nothing may touch prev's stack after it.</li>
 * <li>Pop r15, r14, r13, r12, rbx, rbp from next's stack.</li>
 * <li>If nextFpuArea != 0: FXRSTOR64 [nextFpuArea].</li>
 * <li>RET: into next's earlier CONTEXT_SWITCH call site, or into TASK_TRAMPOLINE for a new
 *     task (TaskFrame builds that frame).</li>
 * </ol>
 * RFLAGS is not saved: it is the same (IF = 0, DF = 0) at every switch. GSBASE is per CPU,
 * not per task, and is left alone (the arch swaps it only at user/kernel transitions). CR3 and
 * TSS.RSP0 are changed separately (loadAddressSpace, setKernelStack) before the switch.
 *
 * FPU/SSE policy: eager, and only for user tasks. Compiled kernel code never uses x87/SSE
 * registers (the compiler has no floating point), so kernel tasks have no FPU state and pass
 * fpuArea 0; user tasks get their state saved and restored at every switch. Lazy switching
 * (CR0.TS and a #NM handler) was rejected: it leaks register contents across tasks
 * speculatively (the "LazyFP" problem), and every #NM trap is expensive on a KVM that emulates
 * ring 0 (a nested paravirtual KVM).
 *
 * TASK_TRAMPOLINE: where a new task's first switch returns to (see TaskFrame for the frame).
 * It finds rbx = entry, r12 = argument, r13 = task address, rsp 16-aligned plus 8 as after a
 * call. It must call Scheduler.finishSwitch(sched, currentCpu()) (the scheduler address
 * is the kernel's), then STI, then: for a kernel task call entry(argument) and, if it returns,
 * TaskExit.exitCurrent with its result; for a user task call ENTER_USER with Task.ENTRY,
 * Task.USER_STACK and Task.CR3 of the task in r13.
 *
 * ENTER_USER (rdi = user RIP, rsi = user RSP, rdx = CR3): never returns. Loads CR3 if it differs,
 * then IRETQ to CPL 3 with RFLAGS.IF = 1 (Intel SDM Vol. 3A 6.14 frame: SS, RSP, RFLAGS, CS, RIP),
 * SWAPGS first so that the user's GSBASE is live in user mode.
 *
 * CURRENT_CPU: returns this CPU's dense id (0..cpuCount-1), read from the per-CPU GS area.
 *
 * TIMER_ONESHOT (rdi = ticks): arms the local APIC timer (Intel SDM Vol. 3A 11.5.4, one-shot
 * mode) to interrupt after that many scheduler periods (the arch chooses the period and its
 * length in TSC cycles); 0 disarms it. The timer handler calls Scheduler.tick and, if it
 * returns true, Scheduler.schedule before the interrupt returns, then TimerArming.arm.
 *
 * LOAD_ADDRESS_SPACE (rdi = cr3): MOV CR3 unless it already holds that value.
 *
 * SET_KERNEL_STACK (rdi = stack top): writes this CPU's TSS.RSP0 (Intel SDM Vol. 3A 7.7), the
 * stack the CPU switches to on an interrupt from user mode.
 */
public final class SchedArch {
    private SchedArch() {
    }

    public static final String CONTEXT_SWITCH = "klib_sched_context_switch";
    public static final String TASK_TRAMPOLINE_ADDRESS = "klib_sched_task_trampoline_address";
    public static final String ENTER_USER = "klib_sched_enter_user";
    public static final String CURRENT_CPU = "klib_sched_current_cpu";
    public static final String TIMER_ONESHOT = "klib_sched_timer_oneshot";
    public static final String LOAD_ADDRESS_SPACE = "klib_sched_load_address_space";
    public static final String SET_KERNEL_STACK = "klib_sched_set_kernel_stack";

    public static void contextSwitch(long prevSavedRspAddress, long nextSavedRsp, long prevFpuArea,
            long nextFpuArea) {
        Asm.call(CONTEXT_SWITCH, prevSavedRspAddress, nextSavedRsp, prevFpuArea, nextFpuArea);
    }

    /** The address of TASK_TRAMPOLINE (the routine behind this symbol is LEA RAX, [trampoline]; RET). */
    public static long taskTrampolineAddress() {
        return Asm.call(TASK_TRAMPOLINE_ADDRESS);
    }

    public static void enterUser(long userRip, long userRsp, long cr3) {
        Asm.call(ENTER_USER, userRip, userRsp, cr3);
    }

    public static int currentCpu() {
        return (int) Asm.call(CURRENT_CPU);
    }

    public static void timerOneshot(long ticks) {
        Asm.call(TIMER_ONESHOT, ticks);
    }

    public static void loadAddressSpace(long cr3) {
        Asm.call(LOAD_ADDRESS_SPACE, cr3);
    }

    public static void setKernelStack(long stackTop) {
        Asm.call(SET_KERNEL_STACK, stackTop);
    }
}
