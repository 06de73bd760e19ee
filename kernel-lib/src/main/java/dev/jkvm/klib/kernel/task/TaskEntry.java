package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.sched.SchedArch;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.rt.Cpu;

/**
 * The compiled half of TASK_TRAMPOLINE (SchedRoutines): the first code a new task runs, with
 * interrupts still off from the switch that brought it here.
 */
public final class TaskEntry {
    private TaskEntry() {
    }

    public static void begin(long task, long entry, long argument) {
        long sched = KernelScheduler.sched();
        Scheduler.finishSwitch(sched, SchedArch.currentCpu());
        Cpu.sti();
        long value = TaskBodies.run((int) entry, argument);
        TaskExit.exitCurrent(sched, value);
    }
}
