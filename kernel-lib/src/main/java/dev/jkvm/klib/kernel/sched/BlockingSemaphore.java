package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.SpinSemaphore;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Cpu;

/**
 * A counting semaphore whose waiters block instead of spinning: sync's SpinSemaphore keeps
 * the count (and its protocol: take by CAS when positive, post by atomic add), a WaitQueue
 * holds the blocked waiters. post adds a unit and then wakes one waiter; a waiter enqueues
 * itself before it retries the count (WaitQueue's protocol), so a post can never slip between
 * its failed attempt and its sleep. A waiter leaving on timeout retries the count once: a post
 * may have chosen it to wake, and then no other waiter would learn of the unit.
 *
 * Layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0  SpinSemaphore (SpinSemaphore.SIZE bytes; its waiters field stays 0)
 *   +16 WaitQueue
 * </pre>
 */
public final class BlockingSemaphore {
    private BlockingSemaphore() {
    }

    public static final int COUNT = 0;
    public static final int WAIT_QUEUE = 16;
    public static final int SIZE = WAIT_QUEUE + WaitQueue.SIZE;

    public static void init(long semaphore, int count) {
        SpinSemaphore.init(semaphore + COUNT, count);
        WaitQueue.init(semaphore + WAIT_QUEUE);
    }

    public static int count(long semaphore) {
        return SpinSemaphore.count(semaphore + COUNT);
    }

    public static int waiters(long semaphore) {
        return WaitQueue.waiters(semaphore + WAIT_QUEUE);
    }

    public static boolean tryDown(long semaphore) {
        return SpinSemaphore.tryWait(semaphore + COUNT);
    }

    /** Adds a unit and wakes the longest waiter, if any. */
    public static void up(long sched, int cpu, long semaphore) {
        SpinSemaphore.post(semaphore + COUNT);
        WaitQueue.wakeOne(sched, cpu, semaphore + WAIT_QUEUE);
    }

    /** Kernel: up from any context (task or interrupt handler), with interrupts held off meanwhile. */
    public static void post(long sched, long semaphore) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        up(sched, SchedArch.currentCpu(), semaphore);
        if (interrupts) {
            Cpu.sti();
        }
    }

    /**
     * First half of a down by the running task: DONE when it took a unit, BLOCKED when it must
     * schedule and then call resumeDown, DONE_AFTER_SCHEDULE when it took a unit but must pass
     * through schedule once. A deadline other than 0 arms a sleep timer on cpu.
     */
    public static int downOrBlock(long sched, int cpu, long semaphore, long task, long deadline) {
        if (tryDown(semaphore)) {
            return WaitOutcome.DONE;
        }
        long wq = semaphore + WAIT_QUEUE;
        int sequence = WaitQueue.prepareToWait(wq, task);
        if (tryDown(semaphore)) {
            return WaitQueue.finishWait(sched, wq, task) ? WaitOutcome.DONE_AFTER_SCHEDULE : WaitOutcome.DONE;
        }
        if (deadline != 0) {
            SleepTimers.arm(sched, cpu, task, sequence, deadline);
        }
        return WaitOutcome.BLOCKED;
    }

    /**
     * Second half, once the task runs again: DONE when it got a unit, TIMED_OUT when its timer
     * woke it and no unit is left, BLOCKED when it was woken but another task took the unit
     * first (schedule and call resumeDown again), or DONE_AFTER_SCHEDULE as above.
     */
    public static int resumeDown(long sched, int cpu, long semaphore, long task, long deadline) {
        long wq = semaphore + WAIT_QUEUE;
        boolean mustSchedule = WaitQueue.finishWait(sched, wq, task);
        if (tryDown(semaphore)) {
            return mustSchedule ? WaitOutcome.DONE_AFTER_SCHEDULE : WaitOutcome.DONE;
        }
        if (mustSchedule) {
            return WaitOutcome.BLOCKED;
        }
        if (Task.wakeReason(task) == Task.TIMED_OUT) {
            return WaitOutcome.TIMED_OUT;
        }
        return downOrBlock(sched, cpu, semaphore, task, deadline);
    }

    /** Kernel: takes a unit, sleeping while there is none. */
    public static void down(long sched, long semaphore) {
        downUntil(sched, semaphore, 0L);
    }

    /** Kernel: takes a unit unless the TSC passes deadline first (0: never); false on timeout. */
    public static boolean downUntil(long sched, long semaphore, long deadline) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        int cpu = SchedArch.currentCpu();
        long task = Scheduler.current(sched, cpu);
        int outcome = downOrBlock(sched, cpu, semaphore, task, deadline);
        while (outcome == WaitOutcome.BLOCKED) {
            Scheduler.schedule(sched, cpu, Cpu.rdtsc());
            cpu = SchedArch.currentCpu();
            outcome = resumeDown(sched, cpu, semaphore, task, deadline);
        }
        if (outcome == WaitOutcome.DONE_AFTER_SCHEDULE) {
            Scheduler.schedule(sched, cpu, Cpu.rdtsc());
        }
        if (interrupts) {
            Cpu.sti();
        }
        return outcome != WaitOutcome.TIMED_OUT;
    }
}
