package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.selftest.KernelTaskChecks;
import dev.jkvm.klib.kernel.selftest.SchedBench;
import dev.jkvm.klib.kernel.selftest.SchedChecks;
import dev.jkvm.klib.kernel.proc.TaskBodies;

/**
 * The kernel's task bodies by number (proc.TaskBodies names them): the kernel build binds
 * TaskBodies.SYMBOL here, so proc.TaskEntry reaches the main task and the self-test bodies above
 * its layer without depending on them.
 */
public final class TaskBodyTable {
    private TaskBodyTable() {
    }

    public static long run(int body, long argument) {
        if (body == TaskBodies.MAIN) {
            return MainTask.run(argument);
        }
        if (body == TaskBodies.COUNTER) {
            return KernelTaskChecks.count(argument);
        }
        if (body == TaskBodies.ECHO) {
            return argument + 1;
        }
        if (body == TaskBodies.STATE_OF) {
            return Task.state(argument);
        }
        if (body == TaskBodies.TIMED_WAIT) {
            return SchedChecks.timedWait(argument);
        }
        if (body == TaskBodies.POSTED_WAIT) {
            return SchedChecks.postedWait(argument);
        }
        if (body == TaskBodies.FAIRNESS_OBSERVER) {
            return SchedChecks.fairnessObserver(argument);
        }
        if (body == TaskBodies.YIELDER) {
            return SchedBench.yielder();
        }
        if (body == TaskBodies.WAKE_WAITER) {
            return SchedBench.wakeWaiter();
        }
        return -1;
    }
}
