package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.rt.Asm;

/**
 * What kernel tasks run. Compiled code has no function pointers, so a task's entry is one of
 * these numbers, and run hands it to the body table through a by-symbol seam: the kernel build
 * binds SYMBOL to kernel.TaskBodyTable.run ({@code long run(int body, long argument)}; rdi = body,
 * rsi = argument), because the bodies (the main task, the in-guest checks of package selftest)
 * live in layers above this one.
 */
public final class TaskBodies {
    private TaskBodies() {
    }

    public static final String SYMBOL = "klib_task_body";

    /** The boot CPU's main task: the scheduler tests and the final result (kernel.MainTask). */
    public static final int MAIN = 1;
    /** A counting task of the kernel task checks (selftest.KernelTaskChecks.count). */
    public static final int COUNTER = 2;

    /** Returns argument + 1 (the stress test's short task). */
    public static final int ECHO = 3;
    /** Returns the TaskState of the task at argument (the priority test's high task). */
    public static final int STATE_OF = 4;
    /** selftest.SchedChecks.timedWait on the semaphore at argument. */
    public static final int TIMED_WAIT = 5;

    /** selftest.SchedBench.yielder. */
    public static final int YIELDER = 6;
    /** selftest.SchedBench.wakeWaiter. */
    public static final int WAKE_WAITER = 7;
    /** selftest.SchedChecks.postedWait on the semaphore at argument. */
    public static final int POSTED_WAIT = 8;
    /** selftest.SchedChecks.fairnessObserver: starts the fairness tasks, records their slices at argument. */
    public static final int FAIRNESS_OBSERVER = 9;

    /** Runs body with argument and returns the task's exit value (-1 for an unknown body). */
    public static long run(int body, long argument) {
        return Asm.call(SYMBOL, body, argument);
    }
}
