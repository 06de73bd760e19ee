package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.HostCpus;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real host threads act as CPUs, each ticking and scheduling its own CPU and running its
 * current task, all on the shared scheduler structures: wake-ups, blocking, timers, stealing
 * and balancing race for real. The work is a ring of semaphores passing tokens (task i takes
 * from semaphore i and posts to semaphore i+1), so every semaphore must end at its initial count
 * and every task must finish its rounds; a lost wake-up leaves a task blocked beside a
 * positive count and the run never finishes, a duplicated task shows up on two CPUs at once.
 */
class SchedulerConcurrencyTest {
    private static final int ROUNDS = 300;
    private static final long STEP_BUDGET = 20_000_000;

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {2, 4})
    void aTokenRingOverBlockingSemaphoresLosesNothing(int cpus) throws Exception {
        int ringSize = 6 * cpus;
        try (SimMachine machine = new SimMachine(cpus, ringSize + cpus + 4, false)) {
            machine.widenRaces = true;
            Random random = new Random(cpus);
            long[] semaphores = new long[ringSize];
            int[] initial = new int[ringSize];
            for (int i = 0; i < ringSize; i++) {
                initial[i] = i % 3 == 0 ? 1 : 0;
                semaphores[i] = machine.newSemaphore(initial[i]);
            }
            AtomicLongArray passes = new AtomicLongArray(ringSize);
            AtomicInteger finished = new AtomicInteger();
            long[] ring = new long[ringSize];
            for (int i = 0; i < ringSize; i++) {
                int me = i;
                boolean timed = i % 2 == 1;
                int[] done = {0};
                long task = machine.create(random.nextInt(RunQueue.LEVELS), (m, cpu, t) -> {
                    if (m.takeOutcome(t) != WaitOutcome.DONE) {
                        if (done[0] == ROUNDS) {
                            finished.incrementAndGet();
                            m.exit(cpu, t, me * 1000L + done[0]);
                            return;
                        }
                        long deadline = timed ? m.now() + 2 * SimMachine.TICK_TSC : 0L;
                        if (!m.down(cpu, t, semaphores[me], deadline)) {
                            return;
                        }
                    }
                    passes.incrementAndGet(me);
                    done[0]++;
                    m.up(cpu, semaphores[(me + 1) % ringSize]);
                });
                if (random.nextInt(3) == 0) {
                    long mask = machine.arena.allocate(CpuMask.SIZE, 8).address();
                    CpuMask.clearAll(mask);
                    CpuMask.set(mask, random.nextInt(cpus));
                    CpuMask.set(mask, random.nextInt(cpus));
                    Scheduler.setAffinity(machine.sched, 0, task, mask);
                }
                ring[i] = task;
            }
            long[] joinedSum = {0};
            int[] nextToJoin = {0};
            long collector = machine.create(3, (m, cpu, t) -> {
                if (m.takeOutcome(t) == WaitOutcome.DONE) {
                    joinedSum[0] += Task.exitValue(ring[nextToJoin[0]++]);
                }
                while (nextToJoin[0] < ringSize) {
                    if (!m.join(cpu, t, ring[nextToJoin[0]])) {
                        return;
                    }
                    joinedSum[0] += Task.exitValue(ring[nextToJoin[0]++]);
                }
                finished.incrementAndGet();
                m.exit(cpu, t, joinedSum[0]);
            });
            machine.start(0, collector);
            for (long task : ring) {
                machine.start(0, task);
            }
            AtomicBoolean gaveUp = new AtomicBoolean();
            HostCpus.run(cpus, cpu -> {
                for (long step = 0; finished.get() < ringSize + 1; step++) {
                    if (step == STEP_BUDGET) {
                        gaveUp.set(true);
                        return;
                    }
                    machine.clock.addAndGet(SimMachine.TICK_TSC / cpus);
                    machine.step(cpu, step % 3 == 0);
                    if (Task.isIdle(Scheduler.current(machine.sched, cpu))) {
                        // A halted CPU: give the host core to the threads whose CPUs have work.
                        Thread.yield();
                    }
                }
            });
            assertEquals(List.of(), List.copyOf(machine.violations));
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < ringSize; i++) {
                if (Task.state(ring[i]) != TaskState.EXITED) {
                    stuck.add("task " + i + " state " + Task.state(ring[i]) + " passes " + passes.get(i)
                            + " semaphore " + BlockingSemaphore.count(semaphores[i]));
                }
            }
            assertEquals(List.of(), stuck, gaveUp.get() ? "no progress within the step budget" : "");
            for (int i = 0; i < ringSize; i++) {
                assertEquals(ROUNDS, passes.get(i));
                assertEquals(initial[i], BlockingSemaphore.count(semaphores[i]), "tokens are conserved");
                assertEquals(0, BlockingSemaphore.waiters(semaphores[i]));
            }
            long expectedSum = 0;
            for (int i = 0; i < ringSize; i++) {
                expectedSum += i * 1000L + ROUNDS;
            }
            assertEquals(TaskState.EXITED, Task.state(collector));
            assertEquals(expectedSum, Task.exitValue(collector), "the collector joined every ring task");
            assertEquals(List.of(), machine.queueProblems());
            long migrations = 0;
            for (int cpu = 0; cpu < cpus; cpu++) {
                migrations += CpuStats.get(machine.runQueue(cpu), CpuStats.MIGRATIONS_IN);
            }
            assertTrue(migrations > 0, "tasks moved between CPUs");
        }
    }

    @Test
    void racingWakersWakeABlockedTaskExactlyOnce() throws Exception {
        try (SimMachine machine = new SimMachine(4, 8, false)) {
            long sleeper = machine.create(0, (m, cpu, t) -> { });
            AtomicInteger winners = new AtomicInteger();
            for (int trial = 0; trial < 500; trial++) {
                int sequence = Scheduler.block(sleeper);
                Memory.store32(sleeper + Task.LAST_CPU, trial % 4);
                HostCpus.run(4, cpu -> {
                    if (Scheduler.wake(machine.sched, cpu, sleeper, cpu == 3 ? sequence - 1 : sequence, Task.WOKEN)) {
                        winners.incrementAndGet();
                    }
                });
                assertEquals(trial + 1, winners.get(), "exactly one of the racing wakers won");
                assertEquals(TaskState.RUNNABLE, Task.state(sleeper));
                int queuedOn = Memory.load32(sleeper + Task.QUEUED_ON);
                assertTrue(queuedOn > 0);
                long rq = machine.runQueue(queuedOn - 1);
                RunQueue.lock(rq);
                RunQueue.dequeue(rq, queuedOn - 1, sleeper);
                RunQueue.unlock(rq);
                Atomic.storeVolatile64(sleeper + Task.STATE,
                        TaskState.word(sequence, TaskState.RUNNING));
                assertEquals(List.of(), machine.queueProblems().stream()
                        .filter(p -> !p.contains("task " + Task.id(sleeper) + " in state")).toList());
            }
        }
    }

    /**
     * The wait protocol alone, at full speed: one thread is a task taking units with the
     * one-step down (when it blocks, it waits to be made runnable, then plays the CPU that
     * switches to it: dequeues it and marks it RUNNING), the other posts a unit whenever the
     * count is back at zero. A wake-up lost between the waiter's failed attempt and its sleep
     * stops both: the waiter stays BLOCKED beside a posted unit.
     */
    @Test
    void aPostRacingTheWaitersSleepIsNeverLost() throws Exception {
        int units = 20_000;
        try (SimMachine machine = new SimMachine(2, 8, false)) {
            long semaphore = machine.newSemaphore(0);
            long task = machine.create(0, (m, cpu, t) -> { });
            Atomic.storeVolatile64(task + Task.STATE, TaskState.word(0, TaskState.RUNNING));
            AtomicBoolean stuck = new AtomicBoolean();
            AtomicInteger blocks = new AtomicInteger();
            HostCpus.run(2, cpu -> {
                if (cpu == 1) {
                    for (int i = 0; i < units && !stuck.get(); i++) {
                        for (int spins = 0; BlockingSemaphore.count(semaphore) != 0 && !stuck.get(); spins++) {
                            relax(spins);
                        }
                        BlockingSemaphore.up(machine.sched, 1, semaphore);
                    }
                    return;
                }
                for (int taken = 0; taken < units; taken++) {
                    int outcome = BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, task, 0L);
                    while (outcome == WaitOutcome.BLOCKED) {
                        blocks.incrementAndGet();
                        if (!awaitRunnableAndClaim(machine, task)) {
                            stuck.set(true);
                            return;
                        }
                        outcome = BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, task, 0L);
                    }
                    if (outcome == WaitOutcome.DONE_AFTER_SCHEDULE && !awaitRunnableAndClaim(machine, task)) {
                        stuck.set(true);
                        return;
                    }
                }
            });
            assertTrue(!stuck.get(), "lost wake-up: the waiter stayed blocked with "
                    + BlockingSemaphore.count(semaphore) + " unit(s) posted");
            assertEquals(0, BlockingSemaphore.count(semaphore));
            assertTrue(blocks.get() > 0, "the waiter really blocked");
        }
    }

    /**
     * Spins tightly at first, so that both threads race inside the window under test, then
     * yields: the host may have fewer free cores than threads, and the other thread must run.
     */
    private static void relax(long spins) {
        if (spins < 2_000) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    private static boolean awaitRunnableAndClaim(SimMachine machine, long task) {
        for (long spins = 0; Memory.load32(task + Task.QUEUED_ON) == 0; spins++) {
            if (spins == 5_000_000L) {
                return false;
            }
            relax(spins);
        }
        int queuedOn = Atomic.loadVolatile32(task + Task.QUEUED_ON);
        long rq = machine.runQueue(queuedOn - 1);
        RunQueue.lock(rq);
        RunQueue.dequeue(rq, queuedOn - 1, task);
        RunQueue.unlock(rq);
        int sequence = TaskState.sequence(Task.stateWord(task));
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(sequence, TaskState.RUNNING));
        return true;
    }

    /**
     * The race the saved-RSP hand-over exists for, played in a fixed order: a task blocks on
     * cpu 0, is woken onto idle cpu 1 before cpu 0 has switched away from it, and cpu 1 picks
     * it. Cpu 1 must wait until cpu 0 has left the task's stack, and cpu 0 must neither run nor
     * re-queue it meanwhile; afterwards it runs on cpu 1 only.
     */
    @Test
    void aTaskWokenBeforeItLeftItsCpuRunsOnTheNewCpuOnlyAfterTheSwitch() throws Exception {
        SimMachine machine = new SimMachine(2, 8, false);
        Thread cpu1 = new Thread(() -> machine.step(1, false), "cpu-1");
        cpu1.setDaemon(true);
        try {
            long task = machine.create(2, (m, cpu, t) -> { });
            machine.start(0, task);
            machine.step(0, false);
            assertEquals(task, Scheduler.current(machine.sched, 0));
            long wq = machine.arena.allocate(WaitQueue.SIZE, 8).address();
            WaitQueue.init(wq);
            WaitQueue.prepareToWait(wq, task);
            assertEquals(task, WaitQueue.wakeOne(machine.sched, 1, wq));
            assertEquals(2, Memory.load32(task + Task.QUEUED_ON), "woken onto the idle cpu 1");
            cpu1.start();
            while (Scheduler.current(machine.sched, 1) != task) {
                Thread.onSpinWait();
            }
            cpu1.join(200);
            assertTrue(cpu1.isAlive(), "cpu 1 waits while the task is still on cpu 0");
            assertEquals(TaskState.RUNNABLE, Task.state(task));
            machine.scheduleAs(0);
            // A guard against a hung build, not a speed check.
            cpu1.join(60_000);
            assertTrue(!cpu1.isAlive(), "cpu 1 never got the task: cpu 0 kept it after its switch");
            assertEquals(task, Scheduler.current(machine.sched, 1));
            assertEquals(Scheduler.idleTask(machine.sched, 0), Scheduler.current(machine.sched, 0));
            assertEquals(TaskState.RUNNING, Task.state(task));
            assertEquals(2, Task.onCpu(task));
            assertEquals(List.of(), machine.queueProblems());
            assertEquals(List.of(), List.copyOf(machine.violations));
        } finally {
            // A CPU thread still spinning would touch the machine's memory after it is freed.
            if (!cpu1.isAlive()) {
                machine.close();
            }
        }
    }
}
