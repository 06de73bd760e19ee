package dev.jkvm.klib.workload;

import dev.jkvm.klib.kernel.user.Sys;

/** index squared; the system call's view of the argument must agree with the index. */
final class SquaresWorkload {
    private SquaresWorkload() {
    }

    static long task(long index) {
        Sys.yield();
        return index * index + (Sys.argument() - index);
    }
}
