package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Per-CPU lists of sleep timers, ordered by deadline (TSC), in each CPU's RunQueue record and
 * under its lock. A blocked task arms a timer on the CPU it blocked on; that CPU's tick wakes it
 * once the deadline has passed. Insertion walks the list (sleepers per CPU are few); expiry
 * pops from the head.
 *
 * A timer carries the block sequence of the sleep it belongs to (Task.TIMER_SEQUENCE), and
 * expiry wakes with that sequence, so a timer that fires after its task was woken by someone
 * else cannot end the task's next sleep. Expired timers are popped one at a time and woken
 * outside the run queue lock, because waking takes the (possibly other) target CPU's run queue
 * lock, and a CPU never holds two of them.
 */
public final class SleepTimers {
    private SleepTimers() {
    }

    /** Arms a timer for a task that has just blocked with this sequence. */
    public static void arm(long sched, int cpu, long task, int sequence, long deadline) {
        long rq = Scheduler.runQueue(sched, cpu);
        RunQueue.lock(rq);
        Memory.store64(task + Task.TIMER_DEADLINE, deadline);
        Memory.store32(task + Task.TIMER_SEQUENCE, sequence);
        long previous = 0;
        long at = Memory.load64(rq + RunQueue.TIMER_HEAD);
        while (at != 0 && Memory.load64(at + Task.TIMER_DEADLINE) <= deadline) {
            previous = at;
            at = Memory.load64(at + Task.TIMER_NEXT);
        }
        Memory.store64(task + Task.TIMER_NEXT, at);
        if (previous == 0) {
            Memory.store64(rq + RunQueue.TIMER_HEAD, task);
        } else {
            Memory.store64(previous + Task.TIMER_NEXT, task);
        }
        Atomic.storeVolatile32(task + Task.TIMER_CPU, cpu + 1);
        RunQueue.unlock(rq);
    }

    /** Removes the task's timer if it is still armed. */
    public static void disarm(long sched, long task) {
        while (true) {
            int holder = Atomic.loadVolatile32(task + Task.TIMER_CPU);
            if (holder == 0) {
                return;
            }
            long rq = Scheduler.runQueue(sched, holder - 1);
            RunQueue.lock(rq);
            if (Memory.load32(task + Task.TIMER_CPU) == holder) {
                long previous = 0;
                long at = Memory.load64(rq + RunQueue.TIMER_HEAD);
                while (at != 0 && at != task) {
                    previous = at;
                    at = Memory.load64(at + Task.TIMER_NEXT);
                }
                if (at == task) {
                    long next = Memory.load64(task + Task.TIMER_NEXT);
                    if (previous == 0) {
                        Memory.store64(rq + RunQueue.TIMER_HEAD, next);
                    } else {
                        Memory.store64(previous + Task.TIMER_NEXT, next);
                    }
                }
                Memory.store64(task + Task.TIMER_NEXT, 0L);
                Atomic.storeVolatile32(task + Task.TIMER_CPU, 0);
                RunQueue.unlock(rq);
                return;
            }
            RunQueue.unlock(rq);
        }
    }

    /** Wakes every task whose deadline is at or before now; returns how many timers fired. */
    public static int expire(long sched, int cpu, long now) {
        long rq = Scheduler.runQueue(sched, cpu);
        int fired = 0;
        while (true) {
            RunQueue.lock(rq);
            long task = Memory.load64(rq + RunQueue.TIMER_HEAD);
            if (task == 0 || Memory.load64(task + Task.TIMER_DEADLINE) > now) {
                RunQueue.unlock(rq);
                return fired;
            }
            Memory.store64(rq + RunQueue.TIMER_HEAD, Memory.load64(task + Task.TIMER_NEXT));
            Memory.store64(task + Task.TIMER_NEXT, 0L);
            int sequence = Memory.load32(task + Task.TIMER_SEQUENCE);
            Atomic.storeVolatile32(task + Task.TIMER_CPU, 0);
            RunQueue.unlock(rq);
            Scheduler.wake(sched, cpu, task, sequence, Task.TIMED_OUT);
            fired++;
        }
    }

    /** The earliest armed deadline on the CPU, or 0: what the arch programs TIMER_ONESHOT for. */
    public static long nextDeadline(long sched, int cpu) {
        long rq = Scheduler.runQueue(sched, cpu);
        RunQueue.lock(rq);
        long head = Memory.load64(rq + RunQueue.TIMER_HEAD);
        long deadline = head == 0 ? 0L : Memory.load64(head + Task.TIMER_DEADLINE);
        RunQueue.unlock(rq);
        return deadline;
    }
}
