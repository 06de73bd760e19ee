package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The per-task watchdog: a workload task whose run time passes the limit is killed at the next
 * timer tick that interrupts it in ring 3, reported with its index and where it was
 * (proc.UserFaults), and counted as failed, so a task that never ends fails the run instead of
 * hanging it. A CPU with a task to run ticks every period (sched.TimerArming), so the check
 * needs no timer of its own. The limit is the image's (SmpKernelBuilder.watchdogMs) unless the
 * command line gives watchdog-ms=N (Kernel.main passes it in: the command line is parsed above
 * this layer).
 */
public final class Watchdog {
    private Watchdog() {
    }

    private static long commandLineMs;

    /** Boot CPU, before the scheduler starts: watchdog-ms=N from the command line, 0 when absent. */
    public static void setCommandLineLimit(long ms) {
        commandLineMs = ms;
    }

    /** The limit in ms for this run. */
    public static long limitMs() {
        return commandLineMs != 0 ? commandLineMs : WorkloadDescriptor.get(WorkloadDescriptor.WATCHDOG_MS);
    }

    /** At a timer tick that interrupted user mode (frame): kills the current task if it is overdue. */
    public static void check(long frame) {
        long task = KernelScheduler.currentTask();
        if (task == 0 || !UserFaults.isWorkload(task)) {
            return;
        }
        // Run time: what earlier slices added, plus this slice so far (sched.Scheduler keeps both).
        long ran = Task.runTsc(task) + Cpu.rdtsc() - Memory.load64(task + Task.STARTED_TSC);
        long limit = limitMs();
        if (limit > 0 && ran / KernelScheduler.tscPerMs() >= limit) {
            UserFaults.killByWatchdog(frame, limit);
        }
    }
}
