package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Memory;

/**
 * The frame a new task's kernel stack starts with, shaped so that the first CONTEXT_SWITCH to
 * it pops it exactly like a frame it had pushed itself (SchedArch), then returns into the
 * trampoline. From the saved RSP upwards:
 * <pre>
 *   +0  r15 = 0
 *   +8  r14 = 0
 *   +16 r13 = task address
 *   +24 r12 = argument
 *   +32 rbx = entry
 *   +40 rbp = 0           ends the frame-pointer chain a crash report walks
 *   +48 return address    = TASK_TRAMPOLINE
 *   +56 0                 a fake return address of the trampoline
 *   +64 = stack top       (16-byte aligned)
 * </pre>
 * After the RET the trampoline sees rsp = top - 8, which is 8 mod 16 as at the entry of any
 * called function (psABI 3.2.2), so it may call compiled code directly.
 */
public final class TaskFrame {
    private TaskFrame() {
    }

    public static final int R15 = 0;
    public static final int R14 = 8;
    public static final int R13 = 16;
    public static final int R12 = 24;
    public static final int RBX = 32;
    public static final int RBP = 40;
    public static final int RETURN_ADDRESS = 48;
    public static final int TRAMPOLINE_RETURN = 56;
    public static final int SIZE = 64;

    /** Writes the frame below the 16-aligned stack top and returns the task's first saved RSP. */
    public static long build(long stackTop, long trampoline, long entry, long argument, long task) {
        long rsp = (stackTop & ~15L) - SIZE;
        Memory.store64(rsp + R15, 0L);
        Memory.store64(rsp + R14, 0L);
        Memory.store64(rsp + R13, task);
        Memory.store64(rsp + R12, argument);
        Memory.store64(rsp + RBX, entry);
        Memory.store64(rsp + RBP, 0L);
        Memory.store64(rsp + RETURN_ADDRESS, trampoline);
        Memory.store64(rsp + TRAMPOLINE_RETURN, 0L);
        return rsp;
    }
}
