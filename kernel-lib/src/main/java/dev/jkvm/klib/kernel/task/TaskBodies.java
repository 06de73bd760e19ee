package dev.jkvm.klib.kernel.task;

/**
 * What kernel tasks run. Compiled code has no function pointers, so a task's entry is one of
 * these numbers and run dispatches on it.
 */
public final class TaskBodies {
    private TaskBodies() {
    }

    /** The boot CPU's main task: the scheduler tests and the final result (MainTask). */
    public static final int MAIN = 1;
    /** A counting task of the kernel task test (KernelTaskTest.count). */
    public static final int COUNTER = 2;

    public static long run(int body, long argument) {
        if (body == MAIN) {
            return MainTask.run(argument);
        }
        if (body == COUNTER) {
            return KernelTaskTest.count(argument);
        }
        return -1;
    }
}
