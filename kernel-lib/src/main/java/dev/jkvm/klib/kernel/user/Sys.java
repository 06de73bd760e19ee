package dev.jkvm.klib.kernel.user;

import dev.jkvm.klib.rt.Asm;

/**
 * The user side of the system calls, compiled into user-mode code: every method is one
 * Asm.call of the SYSCALL stub (build.UserSpaceBuild: rax = number, then rdi, rsi, rdx).
 * Console.print in user code reaches the WRITE call through the same kind of stub.
 */
public final class Sys {
    private Sys() {
    }

    /** The user-mode routine behind every call here. */
    public static final String SYSCALL = "sys_call";

    public static void yield() {
        Asm.call(SYSCALL, SyscallNumbers.YIELD);
    }

    public static void sleep(long milliseconds) {
        Asm.call(SYSCALL, SyscallNumbers.SLEEP, milliseconds);
    }

    public static void exit(long value) {
        Asm.call(SYSCALL, SyscallNumbers.EXIT, value);
    }

    public static long semWait(int id) {
        return Asm.call(SYSCALL, SyscallNumbers.SEM_WAIT, id);
    }

    public static long semPost(int id) {
        return Asm.call(SYSCALL, SyscallNumbers.SEM_POST, id);
    }

    public static long write(long address, long length) {
        return Asm.call(SYSCALL, SyscallNumbers.WRITE, address, length);
    }

    public static int cpuId() {
        return (int) Asm.call(SYSCALL, SyscallNumbers.CPU_ID);
    }

    public static long taskId() {
        return Asm.call(SYSCALL, SyscallNumbers.TASK_ID);
    }

    public static long argument() {
        return Asm.call(SYSCALL, SyscallNumbers.ARGUMENT);
    }
}
