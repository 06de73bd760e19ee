package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A CPU's sleep timer list on its own: kept in deadline order with equal deadlines in arming
 * order, a timer removed from the head, the middle or the tail leaves the others linked, an
 * expiry fires exactly the deadlines at or before now, and a timer of an old sleep fires without
 * waking the task, which has moved on. The simulations armed at most a few timers per CPU, in
 * deadline order, where PIT found the list walk surviving its mutants.
 */
class SleepTimersTest {
    private SimMachine machine;
    private long sched;

    @BeforeEach
    void setUp() {
        machine = new SimMachine(2, 16, false);
        sched = machine.sched;
    }

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), List.copyOf(machine.violations));
        machine.close();
    }

    /** A blocked task with a timer armed on cpu for deadline. */
    private long sleeper(int cpu, long deadline) {
        long task = machine.create(1, (m, c, t) -> { });
        int sequence = Scheduler.block(task);
        SleepTimers.arm(sched, cpu, task, sequence, deadline);
        assertEquals(cpu + 1, Memory.load32(task + Task.TIMER_CPU));
        assertEquals(sequence, Memory.load32(task + Task.TIMER_SEQUENCE));
        assertEquals(deadline, Memory.load64(task + Task.TIMER_DEADLINE));
        return task;
    }

    private List<Long> armed(int cpu) {
        List<Long> tasks = new ArrayList<>();
        for (long t = Memory.load64(machine.runQueue(cpu) + RunQueue.TIMER_HEAD); t != 0;
                t = Memory.load64(t + Task.TIMER_NEXT)) {
            tasks.add(t);
        }
        return tasks;
    }

    private static void assertDisarmed(long task) {
        assertEquals(0, Memory.load32(task + Task.TIMER_CPU));
        assertEquals(0L, Memory.load64(task + Task.TIMER_NEXT));
    }

    @Test
    void timersAreKeptInDeadlineOrderEqualDeadlinesInArmingOrder() {
        assertEquals(0L, SleepTimers.nextDeadline(sched, 0), "nothing armed");
        long late = sleeper(0, 300);
        long early = sleeper(0, 100);
        long middleFirst = sleeper(0, 200);
        long middleSecond = sleeper(0, 200);
        long earliest = sleeper(0, 50);
        long other = sleeper(1, 10);
        assertEquals(List.of(earliest, early, middleFirst, middleSecond, late), armed(0));
        assertEquals(List.of(other), armed(1));
        assertEquals(50, SleepTimers.nextDeadline(sched, 0));
        assertEquals(10, SleepTimers.nextDeadline(sched, 1));
    }

    @Test
    void aTimerLeavesFromAnyPlaceAndTheOthersStayLinked() {
        long a = sleeper(0, 100);
        long b = sleeper(0, 200);
        long c = sleeper(0, 300);
        long d = sleeper(0, 400);
        long onOne = sleeper(1, 150);
        SleepTimers.disarm(sched, b);
        assertDisarmed(b);
        assertEquals(List.of(a, c, d), armed(0));
        SleepTimers.disarm(sched, a);
        assertDisarmed(a);
        assertEquals(List.of(c, d), armed(0));
        assertEquals(300, SleepTimers.nextDeadline(sched, 0));
        SleepTimers.disarm(sched, d);
        assertDisarmed(d);
        assertEquals(List.of(c), armed(0));
        SleepTimers.disarm(sched, d);
        assertEquals(List.of(c), armed(0), "disarming twice changes nothing");
        SleepTimers.disarm(sched, onOne);
        assertDisarmed(onOne);
        assertEquals(List.of(), armed(1), "found on the CPU it was armed on");
        assertEquals(List.of(c), armed(0));
        SleepTimers.disarm(sched, c);
        assertEquals(List.of(), armed(0));
        assertEquals(0L, SleepTimers.nextDeadline(sched, 0));
    }

    @Test
    void anExpiryFiresTheDeadlinesAtOrBeforeNowAndWakesTheirTasks() {
        long a = sleeper(0, 100);
        long b = sleeper(0, 200);
        long c = sleeper(0, 200);
        long d = sleeper(0, 201);
        assertEquals(0, SleepTimers.expire(sched, 0, 99));
        assertEquals(0, SleepTimers.expire(sched, 1, 1000), "another CPU's timers are not its own");
        assertEquals(List.of(a, b, c, d), armed(0));
        assertEquals(1, SleepTimers.expire(sched, 0, 100), "a deadline equal to now fires");
        assertDisarmed(a);
        assertEquals(TaskState.RUNNABLE, Task.state(a));
        assertEquals(Task.TIMED_OUT, Task.wakeReason(a));
        assertEquals(TaskState.BLOCKED, Task.state(b));
        assertEquals(2, SleepTimers.expire(sched, 0, 200));
        assertDisarmed(b);
        assertDisarmed(c);
        assertEquals(TaskState.RUNNABLE, Task.state(b));
        assertEquals(TaskState.RUNNABLE, Task.state(c));
        assertEquals(List.of(d), armed(0));
        assertEquals(TaskState.BLOCKED, Task.state(d));
        assertEquals(201, SleepTimers.nextDeadline(sched, 0));
    }

    @Test
    void aTimerOfAnEarlierSleepFiresWithoutWakingTheTask() {
        long task = machine.create(1, (m, c, t) -> { });
        int first = Scheduler.block(task);
        SleepTimers.arm(sched, 0, task, first, 100);
        assertEquals(true, Scheduler.cancelBlock(task, first));
        Scheduler.block(task);
        assertEquals(1, SleepTimers.expire(sched, 0, 100), "the timer fires");
        assertEquals(TaskState.BLOCKED, Task.state(task), "but the later sleep goes on");
        assertEquals(0, Task.wakeReason(task));
        assertDisarmed(task);
    }
}
