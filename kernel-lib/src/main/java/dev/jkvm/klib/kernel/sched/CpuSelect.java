package dev.jkvm.klib.kernel.sched;

/**
 * Chooses the CPU a task is placed on when it is created, woken or moved off a CPU its affinity
 * no longer allows. Only CPUs in the task's affinity are considered. The CPU the task last ran
 * on is preferred, because its caches may still hold the task's data, unless it is not as good
 * as the least loaded candidate: when some allowed CPU is idle, only an idle previous CPU
 * qualifies (an idle CPU beats a warm cache); otherwise the previous CPU may be busier by at most
 * the scheduler's affinity slack. Load is a lock-free snapshot (queued tasks plus the running
 * one), so the choice may be slightly stale; balancing corrects that later.
 */
public final class CpuSelect {
    private CpuSelect() {
    }

    /** The chosen CPU, or -1 when the affinity allows no CPU of this machine. */
    public static int select(long sched, long task) {
        int cpuCount = Scheduler.cpuCount(sched);
        int least = -1;
        int leastLoad = 0;
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (!Task.allows(task, cpu)) {
                continue;
            }
            int load = RunQueue.load(Scheduler.runQueue(sched, cpu));
            if (least < 0 || load < leastLoad) {
                least = cpu;
                leastLoad = load;
            }
        }
        int previous = Task.lastCpu(task);
        if (least < 0 || previous < 0 || previous >= cpuCount || !Task.allows(task, previous)) {
            return least;
        }
        int previousLoad = RunQueue.load(Scheduler.runQueue(sched, previous));
        if (leastLoad == 0) {
            return previousLoad == 0 ? previous : least;
        }
        return previousLoad <= leastLoad + Scheduler.affinitySlack(sched) ? previous : least;
    }
}
