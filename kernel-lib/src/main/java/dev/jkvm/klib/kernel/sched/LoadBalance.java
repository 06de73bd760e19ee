package dev.jkvm.klib.kernel.sched;

/**
 * Moves queued tasks from the busiest CPU to a less busy one, pulling (the CPU with too little
 * work takes it; nobody pushes work at a CPU that may be busy). Two triggers:
 * an idle CPU pulls as soon as its queue is empty (from Scheduler.schedule and from its tick),
 * taking any task the busiest queue holds; and every balance interval each CPU pulls one task
 * if the busiest CPU's load exceeds its own by at least IMBALANCE, so that a steady imbalance
 * between busy CPUs evens out. Only tasks whose affinity allows the puller are taken.
 *
 * The victim's run queue lock is held only to find and dequeue the task; the task then
 * belongs to the puller alone (RUNNABLE, on no queue) until the puller enqueues it on its own
 * queue, so no CPU ever holds two run queue locks.
 *
 * The victim's lock is only tried, never waited for: a pull is an opportunity, and the puller
 * tries again at its next tick or schedule (or is kicked, proc.IdleTick). Waiting made convoys:
 * every idle CPU picks the same busiest CPU, and a fair (ticket) lock hands itself to one
 * particular waiter at a time, with interrupts off all along the line. Under QEMU TCG with 149
 * vCPU threads on 2 host cores each hand-off waited for one preempted thread while the others
 * spun, idle CPUs kept joining at every tick, and the victim itself queued behind them for its
 * own run queue: CPUs deaf to interrupts for more than 5 s (StallCheck's report), and once, at
 * 153 CPUs, a run that never finished (issue 14).
 */
public final class LoadBalance {
    private LoadBalance() {
    }

    /** Load difference that makes periodic balancing move a task (1 would just ping-pong). */
    public static final int IMBALANCE = 2;

    /** Pulls one task onto cpu if it idles with an empty queue; returns whether it pulled. */
    public static boolean pullIfIdle(long sched, int cpu) {
        long rq = Scheduler.runQueue(sched, cpu);
        if (RunQueue.count(rq) != 0 || !Task.isIdle(RunQueue.current(rq))) {
            return false;
        }
        return pull(sched, cpu, 1, false);
    }

    /** Pulls one task onto cpu if its queue is empty (schedule() found nothing to run). */
    public static boolean pullIntoEmptyQueue(long sched, int cpu) {
        if (RunQueue.count(Scheduler.runQueue(sched, cpu)) != 0) {
            return false;
        }
        return pull(sched, cpu, 1, false);
    }

    /** The periodic balance step; returns whether it pulled a task. */
    public static boolean periodic(long sched, int cpu) {
        return pull(sched, cpu, IMBALANCE, true);
    }

    /**
     * Pulls one movable task from the CPU with the most queued tasks if its load exceeds ours by
     * at least minimumGap. With keepHead the victim's next task stays (the victim is busy and
     * will run it soon); an idle puller takes whatever it may run.
     */
    private static boolean pull(long sched, int cpu, int minimumGap, boolean keepHead) {
        int cpuCount = Scheduler.cpuCount(sched);
        int busiest = -1;
        int busiestQueued = 0;
        for (int other = 0; other < cpuCount; other++) {
            int queued = RunQueue.count(Scheduler.runQueue(sched, other));
            if (other != cpu && queued > busiestQueued) {
                busiest = other;
                busiestQueued = queued;
            }
        }
        if (busiest < 0) {
            return false;
        }
        long victim = Scheduler.runQueue(sched, busiest);
        int ownLoad = RunQueue.load(Scheduler.runQueue(sched, cpu));
        if (RunQueue.load(victim) - ownLoad < minimumGap) {
            return false;
        }
        if (!RunQueue.mayHaveMovable(victim, cpu, keepHead)) {
            return false;
        }
        if (!RunQueue.tryLock(victim)) {
            return false;
        }
        long task = RunQueue.firstMovable(victim, cpu, keepHead);
        if (task != 0) {
            RunQueue.dequeue(victim, busiest, task);
        }
        RunQueue.unlock(victim);
        if (task == 0) {
            return false;
        }
        Scheduler.placeOn(sched, cpu, cpu, task);
        return true;
    }
}
