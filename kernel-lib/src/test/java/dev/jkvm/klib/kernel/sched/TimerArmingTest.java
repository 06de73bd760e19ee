package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How many ticks an idle CPU sleeps: up to its earliest sleep timer, rounded up to whole ticks
 * (a deadline on a tick boundary is that tick, one cycle past it the next), at least one tick
 * (a deadline already due), at most the balance interval; a CPU with work ticks every period.
 */
class TimerArmingTest {
    private static final long TICK = 1_000;

    private SimMachine machine;
    private long sched;
    private final List<Long> programmed = new ArrayList<>();

    @BeforeEach
    void setUp() {
        machine = new SimMachine(2, 16, false);
        sched = machine.sched;
        Scheduler.configure(sched, 4, 10, 1);
        Asm.hostDefine(SchedArch.TIMER_ONESHOT, args -> {
            programmed.add(args[0]);
            return 0;
        });
    }

    @AfterEach
    void tearDown() {
        machine.close();
    }

    private long sleeper(long deadline) {
        long task = machine.create(1, (m, c, t) -> { });
        SleepTimers.arm(sched, 0, task, Scheduler.block(task), deadline);
        return task;
    }

    private long ticks(long now) {
        return TimerArming.ticksUntilNextEvent(sched, 0, now, TICK);
    }

    @Test
    void anIdleCpuSleepsUntilItsFirstTimerRoundedUpToWholeTicks() {
        long now = 50_000;
        assertEquals(10, ticks(now), "no timer: the balance interval");
        long task = sleeper(now + 3 * TICK);
        assertEquals(3, ticks(now), "exactly three ticks away");
        SleepTimers.disarm(sched, task);
        task = sleeper(now + 3 * TICK + 1);
        assertEquals(4, ticks(now), "one cycle more is a fourth tick");
        SleepTimers.disarm(sched, task);
        task = sleeper(now + 1);
        assertEquals(1, ticks(now));
        SleepTimers.disarm(sched, task);
        task = sleeper(now);
        assertEquals(1, ticks(now), "due now: one tick, never zero");
        SleepTimers.disarm(sched, task);
        task = sleeper(now - 5 * TICK);
        assertEquals(1, ticks(now), "overdue");
        SleepTimers.disarm(sched, task);
        task = sleeper(now + 10 * TICK);
        assertEquals(10, ticks(now), "at the balance interval");
        SleepTimers.disarm(sched, task);
        sleeper(now + 11 * TICK);
        assertEquals(10, ticks(now), "beyond it: the balance interval");
        assertEquals(10, TimerArming.arm(sched, 0, now, TICK));
        assertEquals(List.of(10L), programmed);
    }

    @Test
    void aCpuWithWorkTicksEveryPeriod() {
        long now = 50_000;
        sleeper(now + 5 * TICK);
        long queued = machine.create(1, (m, c, t) -> { });
        Scheduler.placeOn(sched, 0, 0, queued);
        assertEquals(1, ticks(now), "a task queued");
        machine.scheduleAs(0);
        assertEquals(queued, Scheduler.current(sched, 0));
        assertEquals(0, RunQueue.count(machine.runQueue(0)));
        assertEquals(1, ticks(now), "a task running");
        assertEquals(1, TimerArming.arm(sched, 0, now, TICK));
        assertEquals(10, TimerArming.arm(sched, 1, now, TICK), "cpu 1 idles; the timer is cpu 0's");
        assertEquals(List.of(1L, 10L), programmed);
    }
}
