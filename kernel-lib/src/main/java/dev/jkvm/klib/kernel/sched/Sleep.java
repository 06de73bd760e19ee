package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Cpu;

/**
 * Sleeping until a TSC deadline: the task blocks, arms a timer on its CPU's timer list
 * (SleepTimers) and is woken by that CPU's tick once the deadline has passed.
 */
public final class Sleep {
    private Sleep() {
    }

    /** First half: blocks the running task with a timer; the caller then calls schedule. */
    public static void blockUntil(long sched, int cpu, long task, long deadline) {
        int sequence = Scheduler.block(task);
        SleepTimers.arm(sched, cpu, task, sequence, deadline);
    }

    /** Kernel: sleeps until the TSC reaches deadline. */
    public static void until(long sched, long deadline) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        int cpu = SchedArch.currentCpu();
        blockUntil(sched, cpu, Scheduler.current(sched, cpu), deadline);
        Scheduler.schedule(sched, cpu, Cpu.rdtsc());
        if (interrupts) {
            Cpu.sti();
        }
    }
}
