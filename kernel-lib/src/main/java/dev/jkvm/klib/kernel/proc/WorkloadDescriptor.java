package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * The image's workload as the build chose it (build.SmpKernelBuilder): 64-bit words in rodata in
 * this index order; SYMBOL returns their address. The kernel is compiled once for every workload,
 * so what varies between images is data, not code.
 */
public final class WorkloadDescriptor {
    private WorkloadDescriptor() {
    }

    public static final String SYMBOL = "kernel_workload";

    /** Ring-3 tasks running the workload program (user.UserPrograms.WORKLOAD), index 0 .. TASKS-1. */
    public static final int TASKS = 0;
    /** The sum of the tasks' results the host JVM computed at build time. */
    public static final int EXPECTED = 1;
    /** What the report line calls the result: a NUL-terminated ASCII string. */
    public static final int DESCRIPTION = 2;
    /** FLAG_ bits. */
    public static final int FLAGS = 3;
    /** The address of TASKS longs: each task's result as the host JVM computed it, by index. */
    public static final int RESULTS = 4;
    /** The watchdog's limit in ms: a workload task still running after it is killed and reported. */
    public static final int WATCHDOG_MS = 5;
    public static final int ENTRIES = 6;

    /**
     * The default image's checks around the workload: the kernel and ring-3 task tests first, and
     * blocking tasks (producer/consumer, sleepers) alongside the workload's CPU-bound ones.
     */
    public static final long FLAG_SCHEDULER_CHECKS = 1;

    public static long get(int index) {
        return Memory.load64(Asm.call(SYMBOL) + index * 8L);
    }

    public static boolean schedulerChecks() {
        return (get(FLAGS) & FLAG_SCHEDULER_CHECKS) != 0;
    }
}
