package dev.jkvm.klib.workload;

import dev.jkvm.klib.kernel.user.Sys;
import dev.jkvm.klib.kernel.user.SyscallNumbers;
import dev.jkvm.klib.rt.Asm;

/**
 * What Sys's system calls do while a workload runs on the host JVM to compute the expected
 * answer: the task's argument is its index, the host counts as CPU 0, yield and sleep return at
 * once (the answer must not depend on timing), and a semaphore never blocks.
 */
final class HostSystemCalls {
    private HostSystemCalls() {
    }

    private static final ThreadLocal<Long> INDEX = ThreadLocal.withInitial(() -> -1L);

    static void install() {
        Asm.hostDefine(Sys.SYSCALL, HostSystemCalls::call);
    }

    /** Makes index the running task's argument; returns the previous one for leave. */
    static long enter(long index) {
        long previous = INDEX.get();
        INDEX.set(index);
        return previous;
    }

    static void leave(long previous) {
        INDEX.set(previous);
    }

    private static long call(long[] arguments) {
        long number = arguments[0];
        if (number == SyscallNumbers.ARGUMENT || number == SyscallNumbers.TASK_ID) {
            return INDEX.get();
        }
        if (number == SyscallNumbers.WRITE) {
            return arguments[2];
        }
        if (number == SyscallNumbers.COUNT) {
            return System.nanoTime();
        }
        if (number == SyscallNumbers.EXIT) {
            throw new IllegalStateException("Sys.exit called on the host: return the result from the workload"
                    + " method instead");
        }
        return 0;
    }
}
