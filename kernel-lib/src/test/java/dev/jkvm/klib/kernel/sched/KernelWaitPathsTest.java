package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's blocking entry points as a task calls them (BlockingSemaphore.downUntil and post,
 * TaskExit.join and exitCurrent, Sleep.until, IdleLoop.run, Scheduler.preemptIfNeeded), on the host: the context switch
 * hook plays the rest of the machine while the task is switched out (a timer fires, another
 * CPU posts or exits) and then switches the CPU back to the task, as the idle loop would. The
 * simulations drive only the one-step halves these are built from, so each of these loops, the
 * interrupt flag they restore and the outcome they return had no test of their own.
 */
class KernelWaitPathsTest {
    private static final long TOKEN = 0x5AFE_0000L;

    private SimMachine machine;
    private long sched;
    /** What "the rest of the machine" does the first time cpu 0 switches away from a task. */
    private Runnable whileAway;
    private final List<String> switches = new ArrayList<>();

    @BeforeEach
    void setUp() {
        machine = new SimMachine(2, 16, false);
        sched = machine.sched;
        Asm.hostDefine(SchedArch.CURRENT_CPU, args -> 0);
        Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? InterruptFlag.RFLAGS_IF : 0);
        Asm.hostDefine(SchedArch.CONTEXT_SWITCH, args -> {
            long prev = args[0] - Task.SAVED_RSP;
            switches.add(name(prev) + " -> " + name(Scheduler.current(sched, 0)));
            Atomic.storeVolatile64(args[0], TOKEN);
            Runnable action = whileAway;
            if (action != null && !Task.isIdle(prev)) {
                whileAway = null;
                action.run();
            }
            return 0;
        });
    }

    @AfterEach
    void tearDown() {
        Cpu.cli();
        machine.close();
    }

    private String name(long task) {
        return Task.isIdle(task) ? "idle" : "task " + (Task.id(task) & 0xFFFF);
    }

    private long pinnedToCpu0() {
        long task = machine.create(1, (m, c, t) -> { });
        long mask = machine.arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        CpuMask.set(mask, 0);
        Scheduler.setAffinity(sched, 0, task, mask);
        return task;
    }

    /** A task running on cpu 0, pinned there. */
    private long running() {
        long task = pinnedToCpu0();
        Scheduler.start(sched, 0, task);
        Scheduler.schedule(sched, 0, machine.now());
        assertEquals(task, Scheduler.current(sched, 0));
        switches.clear();
        return task;
    }

    /** Cpu 0's idle loop finds the woken task queued and switches back to it. */
    private void switchBack(long task) {
        assertEquals(TaskState.RUNNABLE, Task.state(task), "woken while away");
        Scheduler.schedule(sched, 0, machine.now());
        assertEquals(task, Scheduler.current(sched, 0));
    }

    private static void interrupts(boolean on) {
        if (on) {
            Cpu.sti();
        } else {
            Cpu.cli();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDownWithAUnitLeftTakesItAtOnceAndRestoresTheInterruptFlag(boolean on) {
        long task = running();
        long semaphore = machine.newSemaphore(2);
        interrupts(on);
        assertTrue(BlockingSemaphore.downUntil(sched, semaphore, 0L));
        assertEquals(on, Cpu.hostInterruptsEnabled());
        BlockingSemaphore.down(sched, semaphore);
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(List.of(), switches, "no switch");
        assertEquals(TaskState.RUNNING, Task.state(task));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDownThatTimesOutReturnsFalseAfterItsTimerWokeIt(boolean on) {
        long task = running();
        long semaphore = machine.newSemaphore(0);
        long deadline = machine.now() + 5_000;
        whileAway = () -> {
            assertFalse(Cpu.hostInterruptsEnabled(), "switched away with interrupts off");
            assertEquals(deadline, SleepTimers.nextDeadline(sched, 0));
            assertEquals(0, SleepTimers.expire(sched, 0, deadline - 1));
            assertEquals(1, SleepTimers.expire(sched, 0, deadline));
            switchBack(task);
        };
        interrupts(on);
        assertFalse(BlockingSemaphore.downUntil(sched, semaphore, deadline));
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(List.of("task 2 -> idle", "idle -> task 2"), switches);
        assertEquals(TaskState.RUNNING, Task.state(task));
        assertEquals(0, BlockingSemaphore.waiters(semaphore), "it left the wait queue");
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(0L, SleepTimers.nextDeadline(sched, 0));
    }

    @Test
    void aDownWokenByAnUpTakesTheUnitAndDisarmsItsTimer() {
        long task = running();
        long semaphore = machine.newSemaphore(0);
        long deadline = machine.now() + 5_000;
        whileAway = () -> {
            assertEquals(1, BlockingSemaphore.waiters(semaphore));
            BlockingSemaphore.up(sched, 1, semaphore);
            switchBack(task);
        };
        assertTrue(BlockingSemaphore.downUntil(sched, semaphore, deadline));
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(0L, SleepTimers.nextDeadline(sched, 0), "the timer went with the wait");
        assertEquals(0, Memory.load32(task + Task.TIMER_CPU));
        assertEquals(TaskState.RUNNING, Task.state(task));
    }

    @Test
    void aDownWhoseUnitWasTakenByAnotherTaskSleepsAgain() {
        long task = running();
        long semaphore = machine.newSemaphore(0);
        whileAway = () -> {
            BlockingSemaphore.up(sched, 1, semaphore);
            assertTrue(BlockingSemaphore.tryDown(semaphore), "another task takes the unit first");
            whileAway = () -> {
                BlockingSemaphore.up(sched, 1, semaphore);
                switchBack(task);
            };
            switchBack(task);
        };
        BlockingSemaphore.down(sched, semaphore);
        assertEquals(List.of("task 2 -> idle", "idle -> task 2", "task 2 -> idle", "idle -> task 2"), switches);
        assertEquals(0, BlockingSemaphore.count(semaphore));
        assertEquals(TaskState.RUNNING, Task.state(task));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aPostFromAnyContextWakesTheLongestWaiterAndRestoresTheInterruptFlag(boolean on) {
        long semaphore = machine.newSemaphore(0);
        long first = machine.create(1, (m, c, t) -> { });
        long second = machine.create(1, (m, c, t) -> { });
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(sched, 1, semaphore, first, 0L));
        assertEquals(WaitOutcome.BLOCKED, BlockingSemaphore.downOrBlock(sched, 1, semaphore, second, 0L));
        interrupts(on);
        BlockingSemaphore.post(sched, semaphore);
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(TaskState.RUNNABLE, Task.state(first));
        assertEquals(TaskState.BLOCKED, Task.state(second));
        assertEquals(1, BlockingSemaphore.count(semaphore), "the unit waits for the woken task to take it");
        assertEquals(1, BlockingSemaphore.waiters(semaphore));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aJoinReturnsTheExitValueAtOnceOrAfterTheTargetExited(boolean on) {
        long joiner = running();
        long done = machine.create(1, (m, c, t) -> { });
        TaskExit.exit(sched, 1, done, 77);
        interrupts(on);
        assertEquals(77, TaskExit.join(sched, done));
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(List.of(), switches);

        long target = machine.create(1, (m, c, t) -> { });
        whileAway = () -> {
            assertEquals(TaskState.BLOCKED, Task.state(joiner));
            TaskExit.exit(sched, 1, target, 0xBEEF);
            switchBack(joiner);
        };
        assertEquals(0xBEEF, TaskExit.join(sched, target));
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(List.of("task 2 -> idle", "idle -> task 2"), switches);
        assertEquals(0, WaitQueue.waiters(Task.joiners(target)));
        assertEquals(TaskState.RUNNING, Task.state(joiner));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aSleepLastsUntilItsTimerFires(boolean on) {
        long task = running();
        long deadline = machine.now() + 3_000;
        whileAway = () -> {
            assertEquals(TaskState.BLOCKED, Task.state(task));
            assertEquals(1, Memory.load32(task + Task.TIMER_CPU), "armed on cpu 0");
            assertEquals(0, SleepTimers.expire(sched, 0, deadline - 1));
            assertEquals(1, SleepTimers.expire(sched, 0, deadline));
            switchBack(task);
        };
        interrupts(on);
        Sleep.until(sched, deadline);
        assertEquals(on, Cpu.hostInterruptsEnabled());
        assertEquals(Task.TIMED_OUT, Task.wakeReason(task));
        assertEquals(List.of("task 2 -> idle", "idle -> task 2"), switches);
    }

    /** What stops a loop that never returns in the kernel. */
    private static final class Stop extends RuntimeException {
    }

    @Test
    void anExitingTaskWakesItsJoinersAndLeavesTheCpuForGood() {
        long task = running();
        long joiner = pinnedToCpu0();
        assertEquals(WaitOutcome.BLOCKED, TaskExit.joinOrBlock(sched, joiner, task));
        Asm.hostDefine(SchedArch.CONTEXT_SWITCH, args -> {
            switches.add(name(args[0] - Task.SAVED_RSP) + " -> " + name(Scheduler.current(sched, 0)));
            throw new Stop();
        });
        Cpu.sti();
        assertThrows(Stop.class, () -> TaskExit.exitCurrent(sched, 42));
        assertFalse(Cpu.hostInterruptsEnabled(), "it leaves with interrupts off");
        assertEquals(TaskState.EXITED, Task.state(task));
        assertEquals(42, Task.exitValue(task));
        assertEquals(TaskState.RUNNING, Task.state(joiner), "the joiner was woken and got the CPU");
        assertEquals(List.of("task 2 -> task 3"), switches, "switched to the woken joiner, never re-queued");
        assertEquals(0, RunQueue.count(machine.runQueue(0)));
        assertEquals(0, Memory.load32(task + Task.QUEUED_ON));
    }

    @Test
    void theIdleLoopSchedulesWhenAskedOrWhenWorkIsQueuedAndOtherwiseWaitsWithInterruptsOff() {
        List<Boolean> interruptsAtEachPass = new ArrayList<>();
        int[] passes = {0};
        Asm.hostDefine(SchedArch.CURRENT_CPU, args -> {
            interruptsAtEachPass.add(Cpu.hostInterruptsEnabled());
            if (++passes[0] > 3) {
                throw new Stop();
            }
            return 0;
        });
        Cpu.sti();
        assertThrows(Stop.class, () -> IdleLoop.run(sched));
        assertEquals(List.of(false, false, false, false), interruptsAtEachPass, "each pass starts with interrupts off");
        assertEquals(List.of(), switches, "nothing to run: no switch");

        passes[0] = 0;
        RunQueue.setNeedResched(machine.runQueue(0));
        assertThrows(Stop.class, () -> IdleLoop.run(sched));
        assertFalse(Scheduler.needResched(sched, 0), "asked: it called schedule, which found nothing");

        passes[0] = 0;
        long task = machine.create(1, (m, c, t) -> { });
        Scheduler.placeOn(sched, 0, 0, task);
        Atomic.storeVolatile32(machine.runQueue(0) + RunQueue.NEED_RESCHED, 0);
        assertThrows(Stop.class, () -> IdleLoop.run(sched));
        assertEquals(List.of("idle -> task 2"), switches, "queued work runs even unasked");
    }

    @Test
    void anInterruptReturnSwitchesOnlyWhenItsOwnCpuWasAsked() {
        Asm.hostDefine(SchedArch.CURRENT_CPU, args -> 1);
        long task = machine.create(1, (m, c, t) -> { });
        Scheduler.placeOn(sched, 1, 1, task);
        Atomic.storeVolatile32(machine.runQueue(1) + RunQueue.NEED_RESCHED, 0);
        RunQueue.setNeedResched(machine.runQueue(0));
        Scheduler.preemptIfNeeded(sched);
        assertEquals(Scheduler.idleTask(sched, 1), Scheduler.current(sched, 1), "cpu 1 was not asked");
        assertEquals(List.of(), switches);
        RunQueue.setNeedResched(machine.runQueue(1));
        Scheduler.preemptIfNeeded(sched);
        assertEquals(task, Scheduler.current(sched, 1));
        assertFalse(Scheduler.needResched(sched, 1));
        assertTrue(Scheduler.needResched(sched, 0), "cpu 0's request is cpu 0's");
    }
}
