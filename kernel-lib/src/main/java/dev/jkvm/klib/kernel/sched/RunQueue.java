package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * One CPU's run queue: a FIFO list per priority level and a bitmap of the non-empty levels, so
 * picking the next task is a scan of one word and a list pop. Besides the queue the record holds
 * the CPU's scheduling state (current, idle and previous task, need-resched flag), its sleep
 * timer list (SleepTimers) and its counters (CpuStats), all protected by the one lock.
 *
 * Locking: every method except the snapshots (count, current, needResched) needs the lock held.
 * A CPU never holds two run queue locks at once (stealing and waking lock one queue at a time),
 * so no lock order is needed between them. Wait queue locks may be held while taking a run queue
 * lock, never the reverse.
 *
 * Layout (SIZE bytes, 64-byte aligned, one per CPU at Scheduler's run queue array):
 * <pre>
 *   +0   TicketSpinLock lock (16 bytes)
 *   +16  int  levelBitmap       bit L set: level L has queued tasks
 *   +20  int  count             queued tasks (the current one is not queued)
 *   +24  long current           task on the CPU (its idle task when none)
 *   +32  long idle              this CPU's idle task
 *   +40  long previous          task switched away from by the last switch (finishSwitch)
 *   +48  int  needResched       1: switch at the next opportunity
 *   +52  int  ticksSinceBalance
 *   +56  long timerHead         sleep timers ordered by deadline (Task.TIMER_NEXT links)
 *   +64  long heads[LEVELS]
 *   +128 long tails[LEVELS]
 *   +192 CpuStats (CpuStats.SIZE bytes)
 * </pre>
 */
public final class RunQueue {
    private RunQueue() {
    }

    /** Priority levels; a higher level always runs before a lower one. */
    public static final int LEVELS = 8;

    public static final int LOCK = 0;
    public static final int LEVEL_BITMAP = 16;
    public static final int COUNT = 20;
    public static final int CURRENT = 24;
    public static final int IDLE = 32;
    public static final int PREVIOUS = 40;
    public static final int NEED_RESCHED = 48;
    public static final int TICKS_SINCE_BALANCE = 52;
    public static final int TIMER_HEAD = 56;
    public static final int HEADS = 64;
    public static final int TAILS = HEADS + LEVELS * 8;
    public static final int STATS = TAILS + LEVELS * 8;
    public static final int SIZE = STATS + CpuStats.SIZE;

    public static void init(long rq, long idleTask) {
        TicketSpinLock.init(rq + LOCK);
        Memory.store32(rq + LEVEL_BITMAP, 0);
        Memory.store32(rq + COUNT, 0);
        Memory.store64(rq + CURRENT, idleTask);
        Memory.store64(rq + IDLE, idleTask);
        Memory.store64(rq + PREVIOUS, 0L);
        Memory.store32(rq + NEED_RESCHED, 0);
        Memory.store32(rq + TICKS_SINCE_BALANCE, 0);
        Memory.store64(rq + TIMER_HEAD, 0L);
        for (int level = 0; level < LEVELS; level++) {
            Memory.store64(rq + HEADS + level * 8L, 0L);
            Memory.store64(rq + TAILS + level * 8L, 0L);
        }
        for (int offset = 0; offset < CpuStats.SIZE; offset += 8) {
            Memory.store64(rq + STATS + offset, 0L);
        }
    }

    public static void lock(long rq) {
        TicketSpinLock.lock(rq + LOCK);
    }

    /** Takes the lock only if it is free and nobody waits for it (TicketSpinLock.tryLock). */
    public static boolean tryLock(long rq) {
        return TicketSpinLock.tryLock(rq + LOCK);
    }

    public static void unlock(long rq) {
        TicketSpinLock.unlock(rq + LOCK);
    }

    /** CPUs holding or waiting for the lock (a snapshot, for diagnostics). */
    public static int lockQueueLength(long rq) {
        return TicketSpinLock.queueLength(rq + LOCK);
    }

    /** Queued tasks (a snapshot, read without the lock for CPU selection). */
    public static int count(long rq) {
        return Atomic.loadVolatile32(rq + COUNT);
    }

    public static long current(long rq) {
        return Atomic.loadVolatile64(rq + CURRENT);
    }

    public static long idle(long rq) {
        return Memory.load64(rq + IDLE);
    }

    /** Queued tasks plus the running one unless the CPU idles: what CPU selection compares. */
    public static int load(long rq) {
        long current = current(rq);
        return count(rq) + (current != 0 && !Task.isIdle(current) ? 1 : 0);
    }

    /** Appends the task at the tail of its priority level. */
    public static void enqueue(long rq, int cpu, long task) {
        if (!Atomic.compareAndSet32(task + Task.QUEUED_ON, 0, cpu + 1)) {
            SchedPanic.taskQueuedTwice(task);
            return;
        }
        int level = Task.priority(task);
        long tail = Memory.load64(rq + TAILS + level * 8L);
        Memory.store64(task + Task.QUEUE_NEXT, 0L);
        Memory.store64(task + Task.QUEUE_PREV, tail);
        if (tail == 0) {
            Memory.store64(rq + HEADS + level * 8L, task);
        } else {
            Memory.store64(tail + Task.QUEUE_NEXT, task);
        }
        Memory.store64(rq + TAILS + level * 8L, task);
        Memory.store32(rq + LEVEL_BITMAP, Memory.load32(rq + LEVEL_BITMAP) | (1 << level));
        Atomic.storeVolatile32(rq + COUNT, Memory.load32(rq + COUNT) + 1);
    }

    /** Unlinks a task queued on this CPU's queue. */
    public static void dequeue(long rq, int cpu, long task) {
        if (!Atomic.compareAndSet32(task + Task.QUEUED_ON, cpu + 1, 0)) {
            SchedPanic.taskNotQueued(task);
            return;
        }
        int level = Task.priority(task);
        long next = Memory.load64(task + Task.QUEUE_NEXT);
        long prev = Memory.load64(task + Task.QUEUE_PREV);
        if (prev == 0) {
            Memory.store64(rq + HEADS + level * 8L, next);
        } else {
            Memory.store64(prev + Task.QUEUE_NEXT, next);
        }
        if (next == 0) {
            Memory.store64(rq + TAILS + level * 8L, prev);
        } else {
            Memory.store64(next + Task.QUEUE_PREV, prev);
        }
        if (Memory.load64(rq + HEADS + level * 8L) == 0) {
            Memory.store32(rq + LEVEL_BITMAP, Memory.load32(rq + LEVEL_BITMAP) & ~(1 << level));
        }
        Memory.store64(task + Task.QUEUE_NEXT, 0L);
        Memory.store64(task + Task.QUEUE_PREV, 0L);
        Atomic.storeVolatile32(rq + COUNT, Memory.load32(rq + COUNT) - 1);
    }

    /** The highest level with queued tasks, or -1 when the queue is empty. */
    public static int highestLevel(long rq) {
        int bitmap = Memory.load32(rq + LEVEL_BITMAP);
        for (int level = LEVELS - 1; level >= 0; level--) {
            if ((bitmap & (1 << level)) != 0) {
                return level;
            }
        }
        return -1;
    }

    /** The task pickNext would return, without dequeueing it; 0 when empty. */
    public static long peekNext(long rq) {
        int level = highestLevel(rq);
        return level < 0 ? 0L : Memory.load64(rq + HEADS + level * 8L);
    }

    /** Dequeues the first task of the highest non-empty level; 0 when empty. */
    public static long pickNext(long rq, int cpu) {
        long task = peekNext(rq);
        if (task != 0) {
            dequeue(rq, cpu, task);
        }
        return task;
    }

    /**
     * The first queued task, highest level first, that may run on thiefCpu, for a balancer to
     * steal; 0 when none may. Skips the head of the queue when keepHead is set, so that a
     * balancer never takes the only waiting task from under a CPU that is about to run it.
     */
    public static long firstMovable(long rq, int thiefCpu, boolean keepHead) {
        int bitmap = Memory.load32(rq + LEVEL_BITMAP);
        boolean skip = keepHead;
        for (int level = LEVELS - 1; level >= 0; level--) {
            if ((bitmap & (1 << level)) == 0) {
                continue;
            }
            for (long task = Memory.load64(rq + HEADS + level * 8L); task != 0;
                    task = Memory.load64(task + Task.QUEUE_NEXT)) {
                if (skip) {
                    skip = false;
                } else if (Task.allows(task, thiefCpu)) {
                    return task;
                }
            }
        }
        return 0L;
    }

    /**
     * An unlocked look for firstMovable's answer, so that a CPU looking for work does not take
     * another CPU's run queue lock only to find its tasks pinned there: with more vCPUs than
     * host cores, idle CPUs doing that every tick queue up on the busy CPU's ticket lock behind
     * vCPUs the host is not running, and the busy CPU's own tick waits with them. Only a hint:
     * the list may change under it (task records live in the task table for good, so every read
     * is of valid memory, and the walk stops after count steps); firstMovable under the lock
     * decides.
     */
    public static boolean mayHaveMovable(long rq, int thiefCpu, boolean keepHead) {
        int budget = count(rq);
        boolean skip = keepHead;
        for (int level = LEVELS - 1; level >= 0 && budget > 0; level--) {
            for (long task = Atomic.loadVolatile64(rq + HEADS + level * 8L); task != 0 && budget > 0;
                    task = Atomic.loadVolatile64(task + Task.QUEUE_NEXT)) {
                budget--;
                if (skip) {
                    skip = false;
                } else if (Task.allows(task, thiefCpu)) {
                    return true;
                }
            }
        }
        return false;
    }

    public static boolean needResched(long rq) {
        return Atomic.loadVolatile32(rq + NEED_RESCHED) != 0;
    }

    public static void setNeedResched(long rq) {
        Atomic.storeVolatile32(rq + NEED_RESCHED, 1);
    }
}
