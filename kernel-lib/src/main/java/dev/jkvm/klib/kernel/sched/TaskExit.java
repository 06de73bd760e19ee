package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;

/**
 * Ending a task and waiting for that: exit stores the value, marks the task EXITED and wakes
 * every joiner (the task's joiners WaitQueue); join blocks until the target is EXITED and
 * returns its value. The condition (state EXITED, with the value stored before it) is set
 * before the wake-up, and joiners queue themselves before they test it (WaitQueue's protocol),
 * so no joiner sleeps through an exit. Exactly one party reaps the exited task (TaskTable
 * release, here reap) once every joiner has read the value; the kernel then frees its stack.
 */
public final class TaskExit {
    private TaskExit() {
    }

    /**
     * The running task ends with this value. The caller must then call Scheduler.schedule,
     * which never switches back to it (exitCurrent does both).
     */
    public static void exit(long sched, int cpu, long task, long value) {
        Atomic.storeVolatile64(task + Task.EXIT_VALUE, value);
        int sequence = TaskState.sequence(Task.stateWord(task));
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(sequence, TaskState.EXITED));
        WaitQueue.wakeAll(sched, cpu, Task.joiners(task));
    }

    /** Kernel: ends the running task; does not return. */
    public static void exitCurrent(long sched, long value) {
        Cpu.cli();
        int cpu = SchedArch.currentCpu();
        exit(sched, cpu, Scheduler.current(sched, cpu), value);
        Scheduler.schedule(sched, cpu, Cpu.rdtsc());
        while (true) {
            Cpu.hlt();
        }
    }

    /**
     * First half of a join of target by the running task joiner: DONE when target has exited
     * (read Task.exitValue), BLOCKED (schedule, then resumeJoin), or DONE_AFTER_SCHEDULE.
     */
    public static int joinOrBlock(long sched, long joiner, long target) {
        if (Task.state(target) == TaskState.EXITED) {
            return WaitOutcome.DONE;
        }
        long wq = Task.joiners(target);
        WaitQueue.prepareToWait(wq, joiner);
        if (Task.state(target) == TaskState.EXITED) {
            return WaitQueue.finishWait(sched, wq, joiner) ? WaitOutcome.DONE_AFTER_SCHEDULE : WaitOutcome.DONE;
        }
        return WaitOutcome.BLOCKED;
    }

    /** Second half of a join, once the joiner runs again. */
    public static int resumeJoin(long sched, long joiner, long target) {
        boolean mustSchedule = WaitQueue.finishWait(sched, Task.joiners(target), joiner);
        if (Task.state(target) == TaskState.EXITED) {
            return mustSchedule ? WaitOutcome.DONE_AFTER_SCHEDULE : WaitOutcome.DONE;
        }
        return mustSchedule ? WaitOutcome.BLOCKED : joinOrBlock(sched, joiner, target);
    }

    /** Kernel: waits for target to exit and returns its exit value. */
    public static long join(long sched, long target) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        int cpu = SchedArch.currentCpu();
        long joiner = Scheduler.current(sched, cpu);
        int outcome = joinOrBlock(sched, joiner, target);
        while (outcome == WaitOutcome.BLOCKED) {
            Scheduler.schedule(sched, cpu, Cpu.rdtsc());
            cpu = SchedArch.currentCpu();
            outcome = resumeJoin(sched, joiner, target);
        }
        if (outcome == WaitOutcome.DONE_AFTER_SCHEDULE) {
            Scheduler.schedule(sched, cpu, Cpu.rdtsc());
        }
        if (interrupts) {
            Cpu.sti();
        }
        return Task.exitValue(target);
    }

    /** Frees an exited task's slot once it is off its CPU; the caller then frees its stack. */
    public static void reap(long sched, long task) {
        TaskTable.release(Scheduler.taskTable(sched), task);
    }
}
