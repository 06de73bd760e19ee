package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.sched.Task;

/**
 * What kernel tasks run. Compiled code has no function pointers, so a task's entry is one of
 * these numbers and run dispatches on it.
 */
public final class TaskBodies {
    private TaskBodies() {
    }

    /** The boot CPU's main task: the scheduler tests and the final result (MainTask). */
    public static final int MAIN = 1;
    /** A counting task of the kernel task test (KernelTaskChecks.count). */
    public static final int COUNTER = 2;

    /** Returns argument + 1 (the stress test's short task). */
    public static final int ECHO = 3;
    /** Returns the TaskState of the task at argument (the priority test's high task). */
    public static final int STATE_OF = 4;
    /** SchedChecks.timedWait on the semaphore at argument. */
    public static final int TIMED_WAIT = 5;

    /** SchedBench.yielder. */
    public static final int YIELDER = 6;
    /** SchedBench.wakeWaiter. */
    public static final int WAKE_WAITER = 7;
    /** SchedChecks.postedWait on the semaphore at argument. */
    public static final int POSTED_WAIT = 8;

    public static long run(int body, long argument) {
        if (body == MAIN) {
            return MainTask.run(argument);
        }
        if (body == COUNTER) {
            return KernelTaskChecks.count(argument);
        }
        if (body == ECHO) {
            return argument + 1;
        }
        if (body == STATE_OF) {
            return Task.state(argument);
        }
        if (body == TIMED_WAIT) {
            return SchedChecks.timedWait(argument);
        }
        if (body == POSTED_WAIT) {
            return SchedChecks.postedWait(argument);
        }
        if (body == YIELDER) {
            return SchedBench.yielder();
        }
        if (body == WAKE_WAITER) {
            return SchedBench.wakeWaiter();
        }
        return -1;
    }
}
