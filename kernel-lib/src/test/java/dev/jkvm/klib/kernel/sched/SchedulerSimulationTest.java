package dev.jkvm.klib.kernel.sched;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deterministic simulations of several CPUs on one thread: every round ticks each CPU in turn
 * and runs its current task's code for one tick, so every outcome is reproducible.
 */
class SchedulerSimulationTest {
    private SimMachine machine;

    private SimMachine machine(int cpus, int capacity) {
        machine = new SimMachine(cpus, capacity, true);
        return machine;
    }

    @AfterEach
    void close() {
        if (machine != null) {
            assertEquals(List.of(), List.copyOf(machine.violations));
            machine.close();
        }
    }

    private static final SimMachine.Body SPIN = (m, cpu, task) -> { };

    private long pinnedSpinner(int priority, int... cpus) {
        long task = machine.create(priority, SPIN);
        assertTrue(Scheduler.setAffinity(machine.sched, 0, task, machine.mask(cpus)));
        machine.start(0, task);
        return task;
    }

    @Test
    void equalPriorityCpuBoundTasksShareOneCpuWithinTenPercent() {
        machine(1, 16);
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tasks.add(machine.spawn(0, 3, SPIN));
        }
        machine.rounds(2_000);
        long totalTicks = tasks.stream().mapToLong(t -> machine.ranTicks.get(t).get()).sum();
        long totalTsc = tasks.stream().mapToLong(Task::runTsc).sum();
        for (long task : tasks) {
            double tickShare = machine.ranTicks.get(task).get() / (double) totalTicks;
            double tscShare = Task.runTsc(task) / (double) totalTsc;
            assertEquals(0.2, tickShare, 0.02, "tick share of task " + Task.id(task));
            assertEquals(0.2, tscShare, 0.02, "accounted TSC share of task " + Task.id(task));
        }
        assertEquals(totalTicks, 2_000, 1, "the CPU never idled while tasks were runnable");
        assertTrue(CpuStats.get(machine.runQueue(0), CpuStats.CONTEXT_SWITCHES) >= 2_000 / Scheduler.DEFAULT_SLICE_TICKS);
    }

    @Test
    void affinityIsHonouredAtEveryPlacementUnderRandomWakeAndSleep() {
        machine(4, 64);
        Random random = new Random(7);
        Map<Long, Set<Integer>> allowed = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            Set<Integer> cpus = new HashSet<>();
            while (cpus.isEmpty()) {
                for (int cpu = 0; cpu < 4; cpu++) {
                    if (random.nextInt(3) == 0) {
                        cpus.add(cpu);
                    }
                }
            }
            int sleepEvery = 1 + random.nextInt(5);
            long task = machine.create(random.nextInt(RunQueue.LEVELS), (m, cpu, t) -> {
                if (m.ranTicks.get(t).get() % sleepEvery == 0) {
                    m.sleepUntil(cpu, t, m.now() + SimMachine.TICK_TSC * (1 + (t >> 6) % 7));
                }
            });
            assertTrue(Scheduler.setAffinity(machine.sched, 0, task, machine.mask(cpus.stream().mapToInt(c -> c).toArray())));
            machine.start(0, task);
            allowed.put(task, cpus);
        }
        for (int round = 0; round < 500; round++) {
            machine.round();
            assertEquals(List.of(), machine.queueProblems(), "round " + round);
        }
        long switchesIn = machine.switches.stream().filter(s -> allowed.containsKey(s[1])).count();
        assertTrue(switchesIn > 1_000, "the simulation exercised placements: " + switchesIn);
        for (long[] s : machine.switches) {
            if (allowed.containsKey(s[1])) {
                assertTrue(allowed.get(s[1]).contains((int) s[0]), "task ran on cpu " + s[0]);
            }
        }
        assertFalse(Scheduler.setAffinity(machine.sched, 0, allowed.keySet().iterator().next(), machine.mask()),
                "an empty affinity is refused");
    }

    @Test
    void anIdleCpuPullsQueuedWorkAndTheMoveIsCounted() {
        machine(2, 16);
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            tasks.add(pinnedSpinner(2, 0));
        }
        machine.round();
        assertEquals(5, RunQueue.count(machine.runQueue(0)), "all six pinned to cpu 0");
        long everywhere = machine.mask(0, 1);
        for (long task : tasks) {
            Scheduler.setAffinity(machine.sched, 0, task, everywhere);
        }
        machine.rounds(20);
        assertEquals(3, RunQueue.load(machine.runQueue(0)), 1);
        assertEquals(3, RunQueue.load(machine.runQueue(1)), 1);
        long migrations = tasks.stream().mapToLong(Task::migrations).sum();
        assertTrue(migrations >= 2, "migrations " + migrations);
        assertEquals(migrations, CpuStats.get(machine.runQueue(0), CpuStats.MIGRATIONS_IN)
                + CpuStats.get(machine.runQueue(1), CpuStats.MIGRATIONS_IN));
        assertTrue(tasks.stream().anyMatch(t -> machine.switches.stream().anyMatch(s -> s[0] == 1 && s[1] == t)));
    }

    @Test
    void periodicBalancingEvensOutTwoBusyCpus() {
        machine(2, 16);
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            tasks.add(pinnedSpinner(2, 0));
        }
        tasks.add(pinnedSpinner(2, 1));
        machine.rounds(2);
        assertEquals(7, RunQueue.load(machine.runQueue(0)));
        assertEquals(1, RunQueue.load(machine.runQueue(1)));
        long everywhere = machine.mask(0, 1);
        for (long task : tasks) {
            Scheduler.setAffinity(machine.sched, 0, task, everywhere);
        }
        machine.rounds(Scheduler.DEFAULT_BALANCE_INTERVAL * 6);
        int gap = Math.abs(RunQueue.load(machine.runQueue(0)) - RunQueue.load(machine.runQueue(1)));
        assertTrue(gap < LoadBalance.IMBALANCE, "loads after balancing: gap " + gap);
    }

    @Test
    void aHigherPriorityTaskPreemptsAtOnceAndARemoteTargetGetsAnIpi() {
        machine(2, 16);
        long low0 = pinnedSpinner(1, 0);
        long low1 = pinnedSpinner(1, 1);
        machine.rounds(3);
        assertEquals(low0, Scheduler.current(machine.sched, 0));
        assertEquals(low1, Scheduler.current(machine.sched, 1));
        int ipisBefore = machine.ipis.size();
        long receivedBefore = CpuStats.get(machine.runQueue(1), CpuStats.IPIS_RECEIVED);
        long sentBefore = CpuStats.get(machine.runQueue(0), CpuStats.IPIS_SENT);
        long lower = machine.create(0, SPIN);
        Scheduler.setAffinity(machine.sched, 0, lower, machine.mask(0));
        machine.start(1, lower);
        assertEquals(ipisBefore, machine.ipis.size(), "a lower priority waits for its turn without an IPI");
        assertFalse(Scheduler.needResched(machine.sched, 0));
        long high = machine.create(6, SPIN);
        Scheduler.setAffinity(machine.sched, 0, high, machine.mask(1));
        machine.start(0, high);
        assertEquals(ipisBefore + 1, machine.ipis.size(), "cpu 0 placed the task on cpu 1 and interrupted it");
        int[] lastIpi = machine.ipis.stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(0, lastIpi[0], "sender");
        assertEquals(1, lastIpi[1], "target");
        machine.step(1, false);
        assertEquals(high, Scheduler.current(machine.sched, 1), "preempted by the IPI, before any tick");
        assertEquals(receivedBefore + 1, CpuStats.get(machine.runQueue(1), CpuStats.IPIS_RECEIVED));
        assertEquals(sentBefore + 1, CpuStats.get(machine.runQueue(0), CpuStats.IPIS_SENT));
        machine.rounds(50);
        assertEquals(high, Scheduler.current(machine.sched, 1), "the low task never gets cpu 1 back");
        long lowTicksOnOne = machine.ranTicks.get(low1).get();
        machine.rounds(10);
        assertEquals(lowTicksOnOne, machine.ranTicks.get(low1).get());
        machine.exit(1, high, 0);
        assertEquals(low1, Scheduler.current(machine.sched, 1));
    }

    @Test
    void sleepersWakeAtTheFirstTickAtOrAfterTheirDeadline() {
        machine(2, 16);
        Map<Long, Long> deadlines = new HashMap<>();
        Map<Long, Long> wokeAt = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            long delay = (3 + 4L * i) * SimMachine.TICK_TSC + SimMachine.TICK_TSC / 2;
            machine.spawn(0, 2, (m, cpu, task) -> {
                if (!deadlines.containsKey(task)) {
                    deadlines.put(task, m.now() + delay);
                    m.sleepUntil(cpu, task, m.now() + delay);
                } else if (!wokeAt.containsKey(task)) {
                    assertEquals(WaitOutcome.TIMED_OUT, m.takeOutcome(task));
                    wokeAt.put(task, m.now());
                    m.exit(cpu, task, 0);
                }
            });
        }
        machine.rounds(40);
        assertEquals(6, wokeAt.size());
        for (var e : wokeAt.entrySet()) {
            long deadline = deadlines.get(e.getKey());
            assertTrue(e.getValue() >= deadline, "woke before its deadline");
            assertTrue(e.getValue() < deadline + SimMachine.TICK_TSC, "woke more than a tick late");
        }
        assertEquals(0, SleepTimers.nextDeadline(machine.sched, 0) + SleepTimers.nextDeadline(machine.sched, 1));
    }

    @Test
    void semaphoreWaitersBlockUntilPostedOrTimedOut() {
        machine(2, 16);
        long semaphore = machine.newSemaphore(0);
        Map<Long, Integer> results = new HashMap<>();
        long patient = machine.spawn(0, 3, (m, cpu, task) -> {
            int outcome = m.takeOutcome(task);
            if (outcome >= 0) {
                results.put(task, outcome);
                m.exit(cpu, task, 1);
            } else if (m.down(cpu, task, semaphore, 0L)) {
                results.put(task, WaitOutcome.DONE);
                m.exit(cpu, task, 1);
            }
        });
        long hasty = machine.spawn(0, 3, (m, cpu, task) -> {
            int outcome = m.takeOutcome(task);
            if (outcome >= 0) {
                results.put(task, outcome);
                m.exit(cpu, task, 2);
            } else if (m.down(cpu, task, semaphore, m.now() + 5 * SimMachine.TICK_TSC)) {
                results.put(task, WaitOutcome.DONE);
                m.exit(cpu, task, 2);
            }
        });
        machine.rounds(3);
        assertEquals(2, BlockingSemaphore.waiters(semaphore), "both block instead of spinning");
        assertEquals(TaskState.BLOCKED, Task.state(patient));
        long ticksWhileBlocked = machine.ranTicks.get(patient).get();
        machine.rounds(10);
        assertEquals(ticksWhileBlocked, machine.ranTicks.get(patient).get(), "a blocked task gets no CPU time");
        assertEquals(WaitOutcome.TIMED_OUT, results.get(hasty));
        assertEquals(Task.TIMED_OUT, Task.wakeReason(hasty));
        assertEquals(1, BlockingSemaphore.waiters(semaphore));
        machine.up(0, semaphore);
        machine.rounds(3);
        assertEquals(WaitOutcome.DONE, results.get(patient));
        assertEquals(Task.WOKEN, Task.wakeReason(patient));
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(0, BlockingSemaphore.waiters(semaphore));
    }

    @Test
    void joinersGetTheExitValueWhetherTheyCameBeforeOrAfterTheExit() {
        machine(2, 16);
        long worker = machine.spawn(0, 2, (m, cpu, task) -> {
            if (m.ranTicks.get(task).get() == 6) {
                m.exit(cpu, task, 0xC0FFEE);
            }
        });
        Map<Long, Long> joined = new HashMap<>();
        SimMachine.Body joiner = (m, cpu, task) -> {
            if (m.takeOutcome(task) == WaitOutcome.DONE || m.join(cpu, task, worker)) {
                joined.put(task, Task.exitValue(worker));
                m.exit(cpu, task, 0);
            }
        };
        long early1 = machine.spawn(0, 2, joiner);
        long early2 = machine.spawn(0, 2, joiner);
        machine.rounds(3);
        assertEquals(2, WaitQueue.waiters(Task.joiners(worker)));
        machine.rounds(20);
        assertEquals(TaskState.EXITED, Task.state(worker));
        long late = machine.spawn(0, 2, joiner);
        machine.rounds(3);
        assertEquals(Map.of(early1, 0xC0FFEEL, early2, 0xC0FFEEL, late, 0xC0FFEEL), joined);
        long id = Task.id(worker);
        assertEquals(worker, TaskTable.lookup(Scheduler.taskTable(machine.sched), id));
        TaskExit.reap(machine.sched, worker);
        assertEquals(0, TaskTable.lookup(Scheduler.taskTable(machine.sched), id), "a reaped ID is stale");
    }

    @Test
    void wakeUpPrefersThePreviousCpuUnlessAnotherIsClearlyLessBusy() {
        machine(4, 32);
        // Loads: cpu0 2, cpu1 2, cpu2 1 (a running task), cpu3 3.
        for (int i = 0; i < 2; i++) {
            pinnedSpinner(1, 0);
            pinnedSpinner(1, 1);
        }
        pinnedSpinner(1, 2);
        for (int i = 0; i < 3; i++) {
            pinnedSpinner(1, 3);
        }
        machine.rounds(1);
        long probe = machine.create(1, SPIN);
        Scheduler.setAffinity(machine.sched, 0, probe, machine.mask(0, 1, 2, 3));
        assertEquals(2, CpuSelect.select(machine.sched, probe), "no history: the least loaded CPU");
        setLastCpu(probe, 1);
        assertEquals(1, CpuSelect.select(machine.sched, probe), "previous CPU busier by only the slack");
        setLastCpu(probe, 3);
        assertEquals(2, CpuSelect.select(machine.sched, probe), "previous CPU busier by more than the slack");
        Scheduler.setAffinity(machine.sched, 0, probe, machine.mask(0, 3));
        assertEquals(3, CpuSelect.select(machine.sched, probe), "previous CPU within slack of the best allowed");
        setLastCpu(probe, 1);
        assertEquals(0, CpuSelect.select(machine.sched, probe), "previous CPU not allowed");
    }

    @Test
    void anIdleCpuBeatsAWarmButBusyPreviousCpu() {
        machine(2, 8);
        pinnedSpinner(1, 0);
        machine.rounds(1);
        long probe = machine.create(1, SPIN);
        setLastCpu(probe, 0);
        assertEquals(1, CpuSelect.select(machine.sched, probe));
        setLastCpu(probe, 1);
        assertEquals(1, CpuSelect.select(machine.sched, probe));
    }

    private static void setLastCpu(long task, int cpu) {
        dev.jkvm.klib.rt.Memory.store32(task + Task.LAST_CPU, cpu);
    }

    @Test
    void thousandsOfShortTasksAllRunAndExitOnce() {
        int cpus = 4;
        int total = 5_000;
        machine(cpus, 96);
        Random random = new Random(11);
        long semaphore = machine.newSemaphore(2);
        List<Long> live = new ArrayList<>();
        Map<Long, Long> expected = new HashMap<>();
        Map<Long, Long> collected = new HashMap<>();
        Set<Long> ids = new HashSet<>();
        int spawned = 0;
        int round = 0;
        while (collected.size() < total) {
            while (spawned < total && live.size() < 80) {
                long value = spawned;
                int work = 1 + random.nextInt(4);
                boolean usesSemaphore = random.nextInt(3) == 0;
                boolean sleeps = random.nextInt(4) == 0;
                int[] phase = {0};
                long task = machine.spawn(random.nextInt(cpus), random.nextInt(RunQueue.LEVELS), (m, cpu, t) -> {
                    m.takeOutcome(t);
                    if (phase[0] == 0 && usesSemaphore) {
                        phase[0] = 1;
                        if (!m.down(cpu, t, semaphore, 0L)) {
                            return;
                        }
                    }
                    if (phase[0] <= 1 && sleeps) {
                        phase[0] = 2;
                        m.sleepUntil(cpu, t, m.now() + 2 * SimMachine.TICK_TSC);
                        return;
                    }
                    if (m.ranTicks.get(t).get() >= work) {
                        if (usesSemaphore) {
                            m.up(cpu, semaphore);
                        }
                        m.exit(cpu, t, value * 3 + 1);
                    }
                });
                assertNotEquals(0, task, "the table has room: reaped slots are reused");
                assertTrue(ids.add(Task.id(task)), "IDs are never reused");
                expected.put(task, value * 3 + 1);
                live.add(task);
                spawned++;
            }
            machine.round();
            if (++round % 50 == 0) {
                assertEquals(List.of(), machine.queueProblems(), "round " + round);
            }
            for (var it = live.iterator(); it.hasNext(); ) {
                long task = it.next();
                if (Task.state(task) == TaskState.EXITED) {
                    assertEquals(null, collected.put(Task.id(task), Task.exitValue(task)), "exited once");
                    assertEquals(expected.get(task), Task.exitValue(task));
                    TaskExit.reap(machine.sched, task);
                    it.remove();
                }
            }
            assertTrue(round < 100_000, "tasks stopped making progress: " + live.size() + " left");
        }
        assertEquals(total, collected.size());
        assertEquals(2, BlockingSemaphore.count(semaphore));
        assertEquals(cpus, TaskTable.live(Scheduler.taskTable(machine.sched)), "only the idle tasks remain");
        long tasksRun = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            tasksRun += CpuStats.get(machine.runQueue(cpu), CpuStats.TASKS_RUN);
            assertTrue(CpuStats.get(machine.runQueue(cpu), CpuStats.IDLE_TSC) >= 0);
        }
        assertTrue(tasksRun >= total);
    }
}
