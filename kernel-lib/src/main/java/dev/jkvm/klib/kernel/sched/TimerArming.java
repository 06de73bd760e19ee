package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Memory;

/**
 * Programs a CPU's one-shot timer (SchedArch.timerOneshot) for its next tick. A CPU with work
 * ticks every period, which drives time slices; an idle CPU with an empty queue sleeps until
 * its earliest sleep timer, but at most one balance interval, so that it still pulls work from
 * busy CPUs. Fewer timer interrupts on idle CPUs matter most on a nested paravirtual KVM, where
 * each one is an expensive exit.
 */
public final class TimerArming {
    private TimerArming() {
    }

    /** Arms the timer after a tick or a switch; returns the ticks programmed. */
    public static long arm(long sched, int cpu, long now, long tscPerTick) {
        long ticks = ticksUntilNextEvent(sched, cpu, now, tscPerTick);
        SchedArch.timerOneshot(ticks);
        return ticks;
    }

    public static long ticksUntilNextEvent(long sched, int cpu, long now, long tscPerTick) {
        long rq = Scheduler.runQueue(sched, cpu);
        if (!Task.isIdle(RunQueue.current(rq)) || RunQueue.count(rq) != 0) {
            return 1;
        }
        long ticks = Memory.load32(sched + Scheduler.BALANCE_INTERVAL);
        long deadline = SleepTimers.nextDeadline(sched, cpu);
        if (deadline != 0) {
            long untilDeadline = deadline <= now ? 1 : (deadline - now + tscPerTick - 1) / tscPerTick;
            if (untilDeadline < ticks) {
                ticks = untilDeadline;
            }
        }
        return ticks < 1 ? 1 : ticks;
    }
}
