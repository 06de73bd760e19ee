package dev.jkvm.it.workload;

import dev.jkvm.klib.kernel.user.Sys;

/**
 * 3 * index + 1 after a yield and a short sleep: more tasks than the kernel has stacks, each
 * going through the scheduler's blocking paths, with a sum that has a closed form.
 */
public final class ManyTasksWorkload {
    private ManyTasksWorkload() {
    }

    public static long task(long index) {
        Sys.yield();
        if (index % 16 == 0) {
            Sys.sleep(1);
        }
        return 3 * index + 1;
    }
}
