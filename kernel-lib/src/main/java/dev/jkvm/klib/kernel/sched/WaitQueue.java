package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Tasks blocked on one object (a semaphore, a task's exit, anything with a condition), FIFO.
 *
 * No lost wake-ups, by this protocol, which every user follows:
 * <pre>
 *   waiter                                   waker
 *   seq = prepareToWait(wq, me)              make the condition true
 *     (under the lock: state := BLOCKED,     wakeOne(wq) / wakeAll(wq)
 *      appended to the queue)                  (under the lock: pop a waiter,
 *   if (condition) finishWait(wq, me)           read its block sequence; then
 *   else schedule(); finishWait(wq, me)         Scheduler.wake(it, sequence))
 * </pre>
 * The waiter is BLOCKED and queued before it looks at the condition; the waker changes the
 * condition before it takes the queue lock. Either the waker's locked pop comes after the
 * waiter's enqueue (it finds and wakes the waiter), or it comes before, and then the condition
 * store precedes the waiter's lock acquisition, a locked instruction after which the waiter's
 * check reads it (Intel SDM Vol. 3A 9.2.2: locked instructions are totally ordered). A wake-up
 * that arrives before the waiter reached schedule() just makes the task runnable again, and
 * schedule() then does not put it to sleep (Scheduler).
 *
 * A popped waiter may already be awake (its timer fired, or it saw the condition itself), so a
 * waiter that leaves without having consumed the condition must check it once more after
 * finishWait (BlockingSemaphore does): the wake-up may have been delivered to it.
 *
 * Layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0  TicketSpinLock lock
 *   +16 long head     first waiter (Task.WAIT_NEXT / WAIT_PREV links)
 *   +24 long tail
 *   +32 int  waiters
 * </pre>
 */
public final class WaitQueue {
    private WaitQueue() {
    }

    public static final int LOCK = 0;
    public static final int HEAD = 16;
    public static final int TAIL = 24;
    public static final int WAITERS = 32;
    public static final int SIZE = 48;

    public static void init(long wq) {
        TicketSpinLock.init(wq + LOCK);
        Memory.store64(wq + HEAD, 0L);
        Memory.store64(wq + TAIL, 0L);
        Memory.store32(wq + WAITERS, 0);
    }

    public static int waiters(long wq) {
        return Atomic.loadVolatile32(wq + WAITERS);
    }

    /** Marks the running task BLOCKED and queues it; returns its block sequence. */
    public static int prepareToWait(long wq, long task) {
        TicketSpinLock.lock(wq + LOCK);
        if (Memory.load64(task + Task.WAIT_QUEUE) != 0) {
            TicketSpinLock.unlock(wq + LOCK);
            SchedPanic.taskOnTwoWaitQueues(task);
            return 0;
        }
        int sequence = Scheduler.block(task);
        long tail = Memory.load64(wq + TAIL);
        Memory.store64(task + Task.WAIT_NEXT, 0L);
        Memory.store64(task + Task.WAIT_PREV, tail);
        if (tail == 0) {
            Memory.store64(wq + HEAD, task);
        } else {
            Memory.store64(tail + Task.WAIT_NEXT, task);
        }
        Memory.store64(wq + TAIL, task);
        Memory.store64(task + Task.WAIT_QUEUE, wq);
        Atomic.storeVolatile32(wq + WAITERS, Memory.load32(wq + WAITERS) + 1);
        TicketSpinLock.unlock(wq + LOCK);
        return sequence;
    }

    /**
     * Ends a wait of the running task: leaves the queue if no waker popped it, drops its sleep
     * timer, and if it is still BLOCKED (the condition came true before it slept) makes it
     * RUNNING again. Returns true when a wake-up for it is already in flight: it is no longer
     * BLOCKED but not RUNNING either, and must pass through Scheduler.schedule (which will not
     * put it to sleep) before it goes on, so that no other CPU runs it at the same time.
     */
    public static boolean finishWait(long sched, long wq, long task) {
        TicketSpinLock.lock(wq + LOCK);
        if (Memory.load64(task + Task.WAIT_QUEUE) == wq) {
            unlink(wq, task);
        }
        TicketSpinLock.unlock(wq + LOCK);
        SleepTimers.disarm(sched, task);
        long word = Task.stateWord(task);
        int state = TaskState.of(word);
        if (state == TaskState.BLOCKED) {
            if (Scheduler.cancelBlock(task, TaskState.sequence(word))) {
                return false;
            }
            state = Task.state(task);
        }
        return state != TaskState.RUNNING;
    }

    /** Pops the first waiter and wakes it; returns it, or 0 when nobody waits. */
    public static long wakeOne(long sched, int wakerCpu, long wq) {
        TicketSpinLock.lock(wq + LOCK);
        long task = Memory.load64(wq + HEAD);
        long word = 0;
        if (task != 0) {
            unlink(wq, task);
            word = Task.stateWord(task);
        }
        TicketSpinLock.unlock(wq + LOCK);
        if (task != 0 && TaskState.of(word) == TaskState.BLOCKED) {
            Scheduler.wake(sched, wakerCpu, task, TaskState.sequence(word), Task.WOKEN);
        }
        return task;
    }

    /** Wakes every waiter; returns how many were popped. */
    public static int wakeAll(long sched, int wakerCpu, long wq) {
        int woken = 0;
        while (wakeOne(sched, wakerCpu, wq) != 0) {
            woken++;
        }
        return woken;
    }

    private static void unlink(long wq, long task) {
        long next = Memory.load64(task + Task.WAIT_NEXT);
        long prev = Memory.load64(task + Task.WAIT_PREV);
        if (prev == 0) {
            Memory.store64(wq + HEAD, next);
        } else {
            Memory.store64(prev + Task.WAIT_NEXT, next);
        }
        if (next == 0) {
            Memory.store64(wq + TAIL, prev);
        } else {
            Memory.store64(next + Task.WAIT_PREV, prev);
        }
        Memory.store64(task + Task.WAIT_NEXT, 0L);
        Memory.store64(task + Task.WAIT_PREV, 0L);
        Memory.store64(task + Task.WAIT_QUEUE, 0L);
        Atomic.storeVolatile32(wq + WAITERS, Memory.load32(wq + WAITERS) - 1);
    }
}
