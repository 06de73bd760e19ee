package dev.jkvm.klib.kernel.user;

/**
 * System call numbers (RAX at SYSCALL; arguments in RDI, RSI, RDX; result in RAX), shared by the
 * user-side stubs (Sys) and the kernel's dispatcher (proc.Syscalls).
 */
public final class SyscallNumbers {
    private SyscallNumbers() {
    }

    public static final int YIELD = 1;
    /** rdi = milliseconds. */
    public static final int SLEEP = 2;
    /** rdi = exit value; does not return. */
    public static final int EXIT = 3;
    /** rdi = semaphore id; returns 0, or -1 for a bad id. */
    public static final int SEM_WAIT = 4;
    /** rdi = semaphore id; returns 0, or -1 for a bad id. */
    public static final int SEM_POST = 5;
    /** rdi = address, rsi = length, both in user memory; returns the length, or -1 when refused. */
    public static final int WRITE = 6;
    public static final int CPU_ID = 7;
    public static final int TASK_ID = 8;
    /** The argument the task was created with. */
    public static final int ARGUMENT = 9;
    /** The TSC, for user-side timing. */
    public static final int COUNT = 10;
}
