package dev.jkvm.klib.kernel.sched;

/**
 * The life cycle of a task. The state word of a task (Task.STATE, 64 bits) holds the state in
 * its low half and a block sequence number in its high half: every time a task blocks the
 * sequence grows, so a wake-up aimed at an earlier sleep (a timer that fired late, a waker that
 * popped the task just before it woke for another reason) fails its compare-and-swap instead of
 * waking a later, unrelated sleep.
 *
 * Transitions and who makes them:
 * <pre>
 *   FREE     -> CREATED   TaskTable.allocate
 *   CREATED  -> RUNNABLE  Scheduler.start (enqueued on a run queue)
 *   RUNNABLE -> RUNNING   the CPU that switches to it, once it is off its previous CPU
 *   RUNNING  -> RUNNABLE  Scheduler.schedule on preemption or yield (re-enqueued)
 *   RUNNING  -> BLOCKED   the task itself (Scheduler.block, through WaitQueue or SleepTimers)
 *   BLOCKED  -> WAKING    exactly one waker, by CAS on (sequence, BLOCKED)
 *   WAKING   -> RUNNABLE  that waker, under the target run queue's lock, while enqueueing
 *   BLOCKED  -> RUNNING   the task itself, cancelling a wait whose condition came true
 *   RUNNING  -> EXITED    the task itself (TaskExit.exit)
 *   EXITED   -> FREE      TaskTable.release (after a joiner has read the exit value)
 * </pre>
 */
public final class TaskState {
    private TaskState() {
    }

    public static final int FREE = 0;
    public static final int CREATED = 1;
    public static final int RUNNABLE = 2;
    public static final int RUNNING = 3;
    public static final int BLOCKED = 4;
    public static final int WAKING = 5;
    public static final int EXITED = 6;

    /** The state half of a state word. */
    public static int of(long stateWord) {
        return (int) stateWord;
    }

    /** The block sequence half of a state word. */
    public static int sequence(long stateWord) {
        return (int) (stateWord >>> 32);
    }

    public static long word(int sequence, int state) {
        return ((long) sequence << 32) | (state & 0xFFFFFFFFL);
    }
}
