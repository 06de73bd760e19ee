package dev.jkvm.klib.kernel.sched;

/**
 * What a one-step wait (BlockingSemaphore.downOrBlock, TaskExit.joinOrBlock, their resume halves)
 * tells its caller to do next. The blocking wrappers act on it themselves; code that drives the
 * scheduler by hand (host simulations, the arch's own loops) acts on it explicitly.
 */
public final class WaitOutcome {
    private WaitOutcome() {
    }

    /** The wait is over; go on without switching. */
    public static final int DONE = 0;
    /** The task is BLOCKED and queued: call Scheduler.schedule, then the resume half. */
    public static final int BLOCKED = 1;
    /**
     * The wait is over, but a wake-up for the task is in flight (it is no longer BLOCKED nor
     * yet RUNNING): call Scheduler.schedule once, then go on.
     */
    public static final int DONE_AFTER_SCHEDULE = 2;
    /** A timed wait expired without its condition becoming true. */
    public static final int TIMED_OUT = 3;
}
