package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Atomic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocking semaphore's two halves (downOrBlock, resumeDown) driven one step at a time on a
 * simulated machine, each outcome forced in turn: a unit at hand, blocking, a unit posted while
 * the task was queueing, a wake-up whose unit another task took first, and a timer that fired
 * with no unit left. The simulations reach these through random interleavings only.
 */
class SemaphoreStepsTest {
    private SimMachine machine;
    private long semaphore;

    @BeforeEach
    void setUp() {
        machine = new SimMachine(2, 8, false);
        semaphore = machine.arena.allocate(BlockingSemaphore.SIZE, 64).fill((byte) 0xA5).address();
    }

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), List.copyOf(machine.violations));
        machine.close();
    }

    private long task() {
        return machine.create(1, (m, cpu, t) -> { });
    }

    /** What Scheduler.schedule does for a woken task that it picks: it runs again. */
    private static void runs(long task) {
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(TaskState.sequence(Task.stateWord(task)), TaskState.RUNNING));
    }

    @Test
    void aUnitAtHandIsTakenWithoutBlocking() {
        BlockingSemaphore.init(semaphore, 2);
        assertEquals(2, BlockingSemaphore.count(semaphore));
        assertEquals(0, BlockingSemaphore.waiters(semaphore));
        long task = task();
        assertEquals(WaitOutcome.DONE, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, task, 0L));
        assertTrue(BlockingSemaphore.tryDown(semaphore));
        assertFalse(BlockingSemaphore.tryDown(semaphore));
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(0, BlockingSemaphore.waiters(semaphore));
    }

    @Test
    void anEmptySemaphoreBlocksUntilUpWakesTheLongestWaiter() {
        BlockingSemaphore.init(semaphore, 0);
        long first = task();
        long second = task();
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, first, 0L));
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, second, 0L));
        assertEquals(TaskState.BLOCKED, Task.state(first));
        assertEquals(2, BlockingSemaphore.waiters(semaphore));
        assertEquals(0L, SleepTimers.nextDeadline(machine.sched, 0), "no deadline, no timer");

        BlockingSemaphore.up(machine.sched, 1, semaphore);
        assertEquals(1, BlockingSemaphore.count(semaphore));
        assertEquals(1, BlockingSemaphore.waiters(semaphore));
        assertEquals(TaskState.RUNNABLE, Task.state(first), "the longest waiter is woken");
        assertEquals(TaskState.BLOCKED, Task.state(second));
        runs(first);
        assertEquals(WaitOutcome.DONE, BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, first, 0L));
        assertEquals(0, BlockingSemaphore.count(semaphore));
    }

    @Test
    void aWokenTaskWhoseUnitWasTakenBlocksAgain() {
        BlockingSemaphore.init(semaphore, 0);
        long sleeper = task();
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, sleeper, 0L));
        BlockingSemaphore.up(machine.sched, 1, semaphore);
        assertTrue(BlockingSemaphore.tryDown(semaphore), "another task takes the unit first");
        // Woken but not yet running: it must pass through schedule before it may block again.
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, sleeper, 0L));
        assertEquals(0, BlockingSemaphore.waiters(semaphore));
        runs(sleeper);
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, sleeper, 0L),
                "running again, still no unit: it waits again");
        assertEquals(1, BlockingSemaphore.waiters(semaphore));
        assertEquals(TaskState.BLOCKED, Task.state(sleeper));
    }

    @Test
    void aUnitPostedAfterTheWakeUpIsTakenAfterOneMoreSchedule() {
        BlockingSemaphore.init(semaphore, 0);
        long sleeper = task();
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, sleeper, 0L));
        BlockingSemaphore.up(machine.sched, 1, semaphore);
        assertEquals(TaskState.RUNNABLE, Task.state(sleeper));
        assertEquals(WaitOutcome.DONE_AFTER_SCHEDULE, BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, sleeper, 0L));
        assertEquals(0, BlockingSemaphore.count(semaphore));
    }

    @Test
    void aDeadlineArmsATimerAndItsExpiryEndsTheWaitEmptyHanded() {
        BlockingSemaphore.init(semaphore, 0);
        long sleeper = task();
        long deadline = machine.now() + 5_000;
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(machine.sched, 0, semaphore, sleeper, deadline));
        assertEquals(deadline, SleepTimers.nextDeadline(machine.sched, 0));
        assertEquals(0, SleepTimers.expire(machine.sched, 0, deadline - 1), "not yet");
        assertEquals(TaskState.BLOCKED, Task.state(sleeper));
        assertEquals(1, SleepTimers.expire(machine.sched, 0, deadline));
        assertEquals(Task.TIMED_OUT, Task.wakeReason(sleeper));
        assertEquals(0L, SleepTimers.nextDeadline(machine.sched, 0));
        runs(sleeper);
        assertEquals(WaitOutcome.TIMED_OUT, BlockingSemaphore.resumeDown(machine.sched, 0, semaphore, sleeper, deadline));
        assertEquals(0, BlockingSemaphore.waiters(semaphore), "it left the queue");
    }
}
