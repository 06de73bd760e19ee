package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.sched.SchedArch;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The compiled half of TASK_TRAMPOLINE (SchedRoutines): the first code a new task runs, with
 * interrupts still off from the switch that brought it here. A user task leaves for ring 3 from
 * here (ENTER_USER sets IF there); a kernel task runs its body with interrupts on.
 */
public final class TaskEntry {
    private TaskEntry() {
    }

    public static void begin(long task, long entry, long argument) {
        long sched = KernelScheduler.sched();
        Scheduler.finishSwitch(sched, SchedArch.currentCpu());
        if (Task.isUser(task)) {
            SchedArch.enterUser(Memory.load64(task + Task.ENTRY), Memory.load64(task + Task.USER_STACK),
                    Memory.load64(task + Task.CR3));
        }
        Cpu.sti();
        long value = TaskBodies.run((int) entry, argument);
        TaskExit.exitCurrent(sched, value);
    }
}
