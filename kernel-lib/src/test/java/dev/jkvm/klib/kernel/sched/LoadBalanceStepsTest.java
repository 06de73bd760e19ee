package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Load balancing one pull at a time: the periodic step moves a task at a load gap of exactly
 * IMBALANCE and not one less, takes it from the CPU with the most queued tasks (the first of
 * equals), leaves that CPU the task it runs next, and never takes a pinned task; an idle CPU
 * pulls only when it idles with an empty queue, and then takes the head. The simulations only
 * checked that loads even out over many rounds, where PIT found the gap, the tie-break and the
 * pull conditions surviving their mutants.
 */
class LoadBalanceStepsTest {
    private SimMachine machine;

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), List.copyOf(machine.violations));
        assertEquals(List.of(), machine.queueProblems());
        machine.close();
    }

    /** count tasks on cpu: the first runs, the others queue in order; all may move unless pinned. */
    private List<Long> load(int cpu, int count, boolean pinned) {
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long task = machine.create(1, (m, c, t) -> { });
            Scheduler.setAffinity(machine.sched, 0, task, machine.mask(cpu));
            machine.start(cpu, task);
            if (i == 0) {
                machine.scheduleAs(cpu);
                assertEquals(task, Scheduler.current(machine.sched, cpu));
            }
            if (!pinned) {
                long all = machine.mask();
                CpuMask.setFirst(all, machine.cpuCount);
                Scheduler.setAffinity(machine.sched, 0, task, all);
            }
            tasks.add(task);
        }
        return tasks;
    }

    /** One more movable task queued on cpu. */
    private long queueOn(int cpu) {
        long task = machine.create(1, (m, c, t) -> { });
        Scheduler.setAffinity(machine.sched, 0, task, machine.mask(cpu));
        machine.start(cpu, task);
        long all = machine.mask();
        CpuMask.setFirst(all, machine.cpuCount);
        Scheduler.setAffinity(machine.sched, 0, task, all);
        return task;
    }

    private int queued(int cpu) {
        return RunQueue.count(machine.runQueue(cpu));
    }

    @Test
    void aGapOfExactlyImbalanceMovesOneTaskAndLeavesTheVictimItsNext() {
        machine = new SimMachine(2, 16, false);
        load(0, 1, false);
        List<Long> busy = load(1, 1 + LoadBalance.IMBALANCE - 1, false);
        assertFalse(LoadBalance.periodic(machine.sched, 0), "gap " + (LoadBalance.IMBALANCE - 1));
        long extra = queueOn(1);
        assertEquals(1 + LoadBalance.IMBALANCE, RunQueue.load(machine.runQueue(1)));
        assertTrue(LoadBalance.periodic(machine.sched, 0), "gap " + LoadBalance.IMBALANCE);
        assertEquals(1, queued(0));
        assertEquals(extra, RunQueue.peekNext(machine.runQueue(0)), "the second queued task moved");
        assertEquals(busy.get(1), RunQueue.peekNext(machine.runQueue(1)), "the victim keeps its next task");
        assertEquals(1, Task.migrations(extra));
    }

    @Test
    void theBusiestQueueIsRobbedAndTheFirstOfEqualsWins() {
        machine = new SimMachine(4, 32, false);
        load(0, 1, false);
        load(1, 3, false);
        List<Long> two = load(2, 4, false);
        load(3, 4, false);
        assertTrue(LoadBalance.periodic(machine.sched, 0));
        assertEquals(2, queued(2), "cpu 2 queued the most, before cpu 3");
        assertEquals(3, queued(3));
        assertEquals(2, queued(1));
        assertEquals(two.get(2), RunQueue.peekNext(machine.runQueue(0)));
    }

    @Test
    void aCpuNeverRobsItself() {
        machine = new SimMachine(2, 16, false);
        load(0, 4, false);
        assertFalse(LoadBalance.periodic(machine.sched, 0), "only its own queue is busy");
        assertEquals(3, queued(0));
        assertEquals(0, queued(1));
    }

    @Test
    void pinnedTasksStayWhateverTheGap() {
        machine = new SimMachine(2, 16, false);
        load(1, 4, true);
        assertFalse(LoadBalance.periodic(machine.sched, 0));
        assertFalse(LoadBalance.pullIfIdle(machine.sched, 0));
        assertFalse(LoadBalance.pullIntoEmptyQueue(machine.sched, 0));
        assertEquals(3, queued(1));
        assertEquals(0, queued(0));
    }

    /**
     * A pull never waits for the victim's run queue lock: while it is held the pull gives up at
     * once and the task stays; once it is free the pull succeeds. Waiting lined every idle CPU up
     * on the busiest CPU's lock (LoadBalance's class comment). Against a pull that waits, this
     * fails at the time limit instead of hanging.
     */
    @Test
    void aPullGivesUpWhileTheVictimsLockIsTaken() {
        machine = new SimMachine(2, 16, false);
        load(1, 3, false);
        RunQueue.lock(machine.runQueue(1));
        boolean pulled;
        try {
            pulled = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> LoadBalance.pullIfIdle(machine.sched, 0),
                    "the pull waited for the victim's lock");
        } finally {
            RunQueue.unlock(machine.runQueue(1));
        }
        assertFalse(pulled);
        assertEquals(2, queued(1));
        assertTrue(LoadBalance.pullIfIdle(machine.sched, 0), "the lock is free again");
        assertEquals(1, queued(1));
    }

    @Test
    void anIdleCpuPullsTheHeadOnlyWhileItIdlesWithAnEmptyQueue() {
        machine = new SimMachine(2, 16, false);
        List<Long> busy = load(1, 3, false);
        assertTrue(LoadBalance.pullIfIdle(machine.sched, 0), "idle, empty: any gap will do");
        assertEquals(busy.get(1), RunQueue.peekNext(machine.runQueue(0)), "it takes the head");
        assertFalse(LoadBalance.pullIfIdle(machine.sched, 0), "its queue is no longer empty");
        assertFalse(LoadBalance.pullIntoEmptyQueue(machine.sched, 0));
        machine.scheduleAs(0);
        assertEquals(busy.get(1), Scheduler.current(machine.sched, 0));
        assertEquals(0, queued(0));
        assertFalse(LoadBalance.pullIfIdle(machine.sched, 0), "it runs a task: not idle");
        assertTrue(LoadBalance.pullIntoEmptyQueue(machine.sched, 0), "its queue is empty");
        assertEquals(busy.get(2), RunQueue.peekNext(machine.runQueue(0)));
        assertEquals(0, queued(1));
    }
}
