package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduler's decisions one call at a time on a simulated machine, at their exact edges: the
 * tick that ends a slice and whether it asks for a switch (an equal or higher priority waiting
 * or not), the cycles charged to tasks and idle time, what a placement counts (migrations, the
 * slice refill) and when it interrupts the target, affinity and priority changes of queued and
 * running tasks, the fields a new or user task starts with, and the bookkeeping of a switch.
 * The simulations only ever saw these through averages over many rounds, where PIT found
 * off-by-ones and dropped counters surviving.
 */
class SchedulerStepsTest {
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

    private long mask(int... cpus) {
        long mask = machine.arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    private long pinned(int priority, int cpu) {
        long task = machine.create(priority, (m, c, t) -> { });
        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(cpu)));
        return task;
    }

    private long rq(int cpu) {
        return machine.runQueue(cpu);
    }

    private boolean tick(int cpu) {
        machine.clock.addAndGet(SimMachine.TICK_TSC);
        return Scheduler.tick(sched, cpu, machine.now());
    }

    /** Starts the task on cpu 0 and switches to it there. */
    private void runOnCpu0(long task) {
        machine.start(0, task);
        machine.scheduleAs(0);
        assertEquals(task, Scheduler.current(sched, 0));
    }

    @Test
    void aSliceEndsAfterSliceTicksAndSwitchesOnlyWhenAnEqualOrHigherPriorityWaits() {
        Scheduler.configure(sched, 3, 1000, 1);
        long running = pinned(2, 0);
        runOnCpu0(running);
        long lower = pinned(1, 0);
        machine.start(0, lower);
        assertFalse(Scheduler.needResched(sched, 0), "a lower priority does not preempt");
        assertFalse(tick(0));
        assertEquals(2, Memory.load32(running + Task.SLICE_LEFT));
        assertFalse(tick(0));
        assertEquals(1, Memory.load32(running + Task.SLICE_LEFT));
        assertFalse(tick(0), "slice over, but only a lower priority waits");
        assertEquals(3, Memory.load32(running + Task.SLICE_LEFT), "a new slice");

        long equal = pinned(2, 0);
        machine.start(0, equal);
        assertFalse(Scheduler.needResched(sched, 0), "an equal priority waits for the slice's end");
        assertFalse(tick(0));
        assertFalse(tick(0));
        assertTrue(tick(0), "slice over and an equal priority waits");
        assertEquals(3, Memory.load32(running + Task.SLICE_LEFT));
        machine.scheduleAs(0);
        assertEquals(equal, Scheduler.current(sched, 0));
        assertEquals(running, RunQueue.peekNext(rq(0)), "the preempted task waits at its level's tail");

        // A queued task raised above the running one (no placement, so nobody asked yet).
        Scheduler.setPriority(sched, lower, 3);
        assertFalse(Scheduler.needResched(sched, 0));
        assertTrue(tick(0), "a higher priority queued preempts mid-slice");
        assertEquals(2, Memory.load32(equal + Task.SLICE_LEFT), "the tick still charged the slice");
    }

    @Test
    void aTickWithNothingQueuedNeverAsksForASwitch() {
        Scheduler.configure(sched, 1, 1000, 1);
        long running = pinned(0, 0);
        runOnCpu0(running);
        for (int i = 0; i < 3; i++) {
            assertFalse(tick(0));
            assertEquals(1, Memory.load32(running + Task.SLICE_LEFT));
        }
        assertFalse(tick(1), "an idle CPU with nothing queued");
        assertEquals(4, CpuStats.get(rq(0), CpuStats.TICKS) + CpuStats.get(rq(1), CpuStats.TICKS));
    }

    @Test
    void runTimeAndIdleTimeAreChargedFromTheLastSwitchOrTick() {
        long task = pinned(1, 0);
        long rq = rq(0);
        long switchedIn = CpuStats.get(rq, CpuStats.SWITCHED_IN_TSC);
        machine.clock.set(50_000);
        machine.start(0, task);
        machine.scheduleAs(0);
        assertEquals(50_000 - switchedIn, CpuStats.get(rq, CpuStats.IDLE_TSC), "idle until the switch");
        assertEquals(50_000, CpuStats.get(rq, CpuStats.SWITCHED_IN_TSC));
        assertEquals(50_000, Memory.load64(task + Task.STARTED_TSC));
        assertEquals(1, CpuStats.get(rq, CpuStats.CONTEXT_SWITCHES));
        assertEquals(1, CpuStats.get(rq, CpuStats.TASKS_RUN));
        assertEquals(0, Task.runTsc(task));

        assertFalse(Scheduler.tick(sched, 0, 52_500));
        assertEquals(2_500, Task.runTsc(task));
        assertEquals(52_500, Memory.load64(task + Task.STARTED_TSC));
        Scheduler.block(task);
        machine.clock.set(53_000);
        machine.scheduleAs(0);
        assertEquals(3_000, Task.runTsc(task), "charged up to the switch");
        assertEquals(Scheduler.idleTask(sched, 0), Scheduler.current(sched, 0));
        assertEquals(2, CpuStats.get(rq, CpuStats.CONTEXT_SWITCHES));
        assertEquals(1, CpuStats.get(rq, CpuStats.TASKS_RUN), "the idle task is not a task run");
        assertEquals(50_000 - switchedIn, CpuStats.get(rq, CpuStats.IDLE_TSC), "no idle time while it ran");

        assertFalse(Scheduler.tick(sched, 0, 56_000));
        assertEquals(50_000 - switchedIn + 3_000, CpuStats.get(rq, CpuStats.IDLE_TSC), "idle since the switch");
        assertEquals(56_000, CpuStats.get(rq, CpuStats.SWITCHED_IN_TSC));
        assertFalse(Scheduler.tick(sched, 0, 56_400));
        assertEquals(50_000 - switchedIn + 3_400, CpuStats.get(rq, CpuStats.IDLE_TSC));
        assertEquals(3_000, Task.runTsc(task), "a blocked task is not charged");
    }

    @Test
    void aPlacementCountsMigrationsRefillsAnEmptySliceAndInterruptsARemoteTargetOnce() {
        Scheduler.configure(sched, 5, 1000, 1);
        long fresh = machine.create(1, (m, c, t) -> { });
        assertEquals(-1, Task.lastCpu(fresh));
        machine.clock.set(7_000);
        int ipis = machine.ipis.size();
        Memory.store32(fresh + Task.SLICE_LEFT, 0);
        Scheduler.placeOn(sched, 0, 1, fresh);
        assertEquals(0, Task.migrations(fresh), "a new task has no previous CPU");
        assertEquals(0, CpuStats.get(rq(1), CpuStats.MIGRATIONS_IN));
        assertEquals(1, Task.lastCpu(fresh));
        assertEquals(5, Memory.load32(fresh + Task.SLICE_LEFT), "an used-up slice is refilled");
        assertEquals(TaskState.RUNNABLE, Task.state(fresh));
        assertTrue(Scheduler.needResched(sched, 1), "cpu 1 idles");
        assertEquals(ipis + 1, machine.ipis.size(), "one reschedule IPI to cpu 1");
        assertEquals(1, lastIpi()[1]);
        assertEquals(1, CpuStats.get(rq(0), CpuStats.IPIS_SENT), "counted by the sender");
        assertEquals(0, CpuStats.get(rq(1), CpuStats.IPIS_SENT));

        long moved = machine.create(1, (m, c, t) -> { });
        Memory.store32(moved + Task.LAST_CPU, 0);
        Memory.store32(moved + Task.SLICE_LEFT, 2);
        Scheduler.placeOn(sched, 0, 1, moved);
        assertEquals(1, Task.migrations(moved));
        assertEquals(1, CpuStats.get(rq(1), CpuStats.MIGRATIONS_IN));
        assertEquals(2, Memory.load32(moved + Task.SLICE_LEFT), "a slice left over is kept");
        assertEquals(ipis + 1, machine.ipis.size(), "cpu 1 was already asked: no second IPI");

        long stays = machine.create(1, (m, c, t) -> { });
        Memory.store32(stays + Task.LAST_CPU, 0);
        Scheduler.placeOn(sched, 0, 0, stays);
        assertEquals(0, Task.migrations(stays), "same CPU as last time");
        assertEquals(0, CpuStats.get(rq(0), CpuStats.MIGRATIONS_IN));
        assertTrue(Scheduler.needResched(sched, 0));
        assertEquals(ipis + 1, machine.ipis.size(), "the caller's own CPU needs no IPI");
        assertEquals(1, CpuStats.get(rq(0), CpuStats.IPIS_SENT));
    }

    @Test
    void onlyAHigherPriorityThanTheRunningTaskPreemptsAndNoMailboxMeansNoIpi() {
        long running = pinned(2, 1);
        machine.start(1, running);
        machine.scheduleAs(1);
        assertEquals(running, Scheduler.current(sched, 1));
        int ipis = machine.ipis.size();
        long equal = pinned(2, 1);
        machine.start(0, equal);
        assertFalse(Scheduler.needResched(sched, 1));
        long higher = pinned(3, 1);
        Memory.store64(sched + Scheduler.MAILBOX, 0L);
        machine.start(0, higher);
        assertTrue(Scheduler.needResched(sched, 1));
        assertEquals(ipis, machine.ipis.size(), "no mailbox, no IPI");
        assertEquals(0, CpuStats.get(rq(0), CpuStats.IPIS_SENT));
    }

    private int[] lastIpi() {
        return machine.ipis.stream().reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void affinityOutsideTheMachineIsRefusedAndAQueuedTaskMovesOnlyWhenItsCpuIsNoLongerAllowed() {
        long task = pinned(1, 0);
        assertFalse(Scheduler.setAffinity(sched, 0, task, mask()), "no CPU at all");
        assertFalse(Scheduler.setAffinity(sched, 0, task, mask(2)), "cpu 2 is not in a 2-CPU machine");
        assertTrue(Task.allows(task, 0));
        assertFalse(Task.allows(task, 1), "a refused mask changes nothing");
        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(1, 2)), "cpu 1 is enough");
        assertTrue(Task.allows(task, 1));
        assertEquals(0, Atomic.loadVolatile32(task + Task.QUEUED_ON), "not started: nothing to move");

        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(0)));
        machine.start(0, task);
        assertEquals(1, Memory.load32(task + Task.QUEUED_ON));
        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(0, 1)));
        assertEquals(1, Memory.load32(task + Task.QUEUED_ON), "cpu 0 is still allowed: it stays");
        assertEquals(1, RunQueue.count(rq(0)));
        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(1)));
        assertEquals(2, Memory.load32(task + Task.QUEUED_ON), "moved to cpu 1's queue");
        assertEquals(0, RunQueue.count(rq(0)));
        assertEquals(1, RunQueue.count(rq(1)));
        assertEquals(List.of(), machine.queueProblems());
    }

    @Test
    void aRunningTaskThatMayNoLongerRunOnItsCpuMovesWhenItLeavesIt() {
        long task = machine.create(1, (m, c, t) -> { });
        runOnCpu0(task);
        assertTrue(Scheduler.setAffinity(sched, 0, task, mask(1)));
        assertEquals(task, Scheduler.current(sched, 0), "a running task moves only when it leaves its CPU");
        machine.scheduleAs(0);
        assertEquals(Scheduler.idleTask(sched, 0), Scheduler.current(sched, 0));
        assertEquals(2, Memory.load32(task + Task.QUEUED_ON), "queued on cpu 1");
        assertEquals(TaskState.RUNNABLE, Task.state(task));
        assertEquals(1, Task.migrations(task));
        machine.scheduleAs(1);
        assertEquals(task, Scheduler.current(sched, 1));
        assertEquals(List.of(), machine.queueProblems());
    }

    @Test
    void aPriorityChangeRequeuesAQueuedTaskAtItsNewLevelAndOutOfRangeIsAPanic() {
        long a = pinned(2, 0);
        long b = pinned(1, 0);
        machine.start(0, a);
        machine.start(0, b);
        assertEquals(a, RunQueue.peekNext(rq(0)));
        Scheduler.setPriority(sched, b, 3);
        assertEquals(3, Task.priority(b));
        assertEquals(b, RunQueue.peekNext(rq(0)), "b now leads at level 3");
        assertEquals(1 << 3 | 1 << 2, Memory.load32(rq(0) + RunQueue.LEVEL_BITMAP));
        assertEquals(2, RunQueue.count(rq(0)));

        long unqueued = machine.create(0, (m, c, t) -> { });
        Scheduler.setPriority(sched, unqueued, RunQueue.LEVELS - 1);
        assertEquals(RunQueue.LEVELS - 1, Task.priority(unqueued), "not queued: only the field changes");
        assertEquals(0, Memory.load32(unqueued + Task.QUEUED_ON));
        Scheduler.setPriority(sched, unqueued, 0);
        assertEquals(0, Task.priority(unqueued));
        assertThrows(AssertionError.class, () -> Scheduler.setPriority(sched, unqueued, RunQueue.LEVELS));
        assertThrows(AssertionError.class, () -> Scheduler.setPriority(sched, unqueued, -1));
        assertEquals(0, Task.priority(unqueued));
        assertEquals(List.of(), machine.queueProblems());
    }

    @Test
    void aNewTaskStartsWithItsFieldsSetAndPrioritiesOutOfRangeAreRefused() {
        Scheduler.configure(sched, 7, 1000, 1);
        assertEquals(0L, Scheduler.createTask(sched, 1, 2, -1, 0, 0));
        assertEquals(0L, Scheduler.createTask(sched, 1, 2, RunQueue.LEVELS, 0, 0));
        long lowest = Scheduler.createTask(sched, 0x1234, 0x5678, 0, 0, 0);
        long highest = Scheduler.createTask(sched, 0x1234, 0x5678, RunQueue.LEVELS - 1, 0, 0);
        assertNotEquals(0L, lowest);
        assertNotEquals(0L, highest);
        assertEquals(RunQueue.LEVELS - 1, Task.priority(highest));
        assertEquals(0x1234, Memory.load64(lowest + Task.ENTRY));
        assertEquals(0x5678, Memory.load64(lowest + Task.ARGUMENT));
        assertEquals(7, Memory.load32(lowest + Task.SLICE_LEFT));
        assertEquals(0L, Memory.load64(lowest + Task.GUARD_PAGE), "no stack, no guard page");
        assertEquals(TaskTable.NO_FRAME, Task.savedRsp(lowest), "no stack, no frame");
        assertTrue(Task.allows(lowest, 0));
        assertTrue(Task.allows(lowest, 1));
        assertFalse(Task.allows(lowest, 2), "every CPU of the machine, no more");
        assertEquals(TaskState.CREATED, Task.state(lowest));

        MemorySegment stack = machine.arena.allocate(8192, 4096);
        long base = stack.address();
        long noTrampoline = Scheduler.createTask(sched, 0x1234, 0x5678, 1, base, 8192);
        assertEquals(base - Task.PAGE_SIZE, Memory.load64(noTrampoline + Task.GUARD_PAGE));
        assertEquals(base, Memory.load64(noTrampoline + Task.STACK_BASE));
        assertEquals(8192, Memory.load64(noTrampoline + Task.STACK_SIZE));
        assertEquals(TaskTable.NO_FRAME, Task.savedRsp(noTrampoline), "no trampoline, no frame");
        Scheduler.setTrampoline(sched, 0x9999);
        long withFrame = Scheduler.createTask(sched, 0x1234, 0x5678, 1, base, 8192);
        long rsp = Task.savedRsp(withFrame);
        assertEquals(base + 8192 - TaskFrame.SIZE, rsp, "the frame sits at the top of its stack");
        assertEquals(0x9999, Memory.load64(rsp + TaskFrame.RETURN_ADDRESS));
        assertEquals(withFrame, Memory.load64(rsp + TaskFrame.R13));
        Scheduler.setTrampoline(sched, 0);
        assertEquals(TaskTable.NO_FRAME, Task.savedRsp(Scheduler.createTask(sched, 1, 2, 1, base, 8192)));

        int made = 0;
        while (Scheduler.createTask(sched, 1, 2, 1, 0, 0) != 0) {
            made++;
        }
        assertEquals(16 - 2 - 5, made, "the table holds 16, two of them idle tasks");
    }

    @Test
    void aUserTaskGetsAFreshFpuStateAndItsAddressSpaceAndStackOnEverySwitchIn() {
        long task = machine.create(1, (m, c, t) -> { });
        Memory.store32(task + Task.FLAGS, 4);
        MemorySegment fpu = machine.arena.allocate(Scheduler.FXSAVE_SIZE, 16).fill((byte) 0xA5);
        Scheduler.makeUser(task, 0xC3000, 0x401000, 0x7FF000, fpu.address());
        assertTrue(Task.isUser(task));
        assertEquals(4 | Task.FLAG_USER, Memory.load32(task + Task.FLAGS), "other flags are kept");
        assertEquals(0xC3000, Memory.load64(task + Task.CR3));
        assertEquals(0x401000, Memory.load64(task + Task.ENTRY));
        assertEquals(0x7FF000, Memory.load64(task + Task.USER_STACK));
        assertEquals(fpu.address(), Memory.load64(task + Task.FPU_AREA));
        for (int i = 0; i < Scheduler.FXSAVE_SIZE; i += 2) {
            int expected = i == Scheduler.FXSAVE_FCW ? Scheduler.INITIAL_FCW
                    : i == Scheduler.FXSAVE_MXCSR ? Scheduler.INITIAL_MXCSR & 0xFFFF : 0;
            assertEquals(expected, Memory.load16(fpu.address() + i) & 0xFFFF, "FXSAVE byte " + i);
        }
        long kernelTask = machine.create(1, (m, c, t) -> { });
        Scheduler.makeUser(kernelTask, 0xC4000, 0x402000, 0x7FE000, 0L);
        assertEquals(0L, Memory.load64(kernelTask + Task.FPU_AREA), "no FPU area: nothing to set up");

        List<String> arch = new ArrayList<>();
        Asm.hostDefine(SchedArch.SET_KERNEL_STACK, args -> {
            arch.add("stack " + Long.toHexString(args[0]));
            return 0;
        });
        Asm.hostDefine(SchedArch.LOAD_ADDRESS_SPACE, args -> {
            arch.add("cr3 " + Long.toHexString(args[0]));
            return 0;
        });
        long plain = pinned(1, 0);
        runOnCpu0(plain);
        assertEquals(List.of(), arch, "a kernel task keeps the current address space");
        Scheduler.setAffinity(sched, 0, task, mask(0));
        machine.start(0, task);
        Scheduler.block(plain);
        machine.scheduleAs(0);
        assertEquals(task, Scheduler.current(sched, 0));
        assertEquals(List.of("stack " + Long.toHexString(Task.stackTop(task)), "cr3 c3000"), arch);
    }

    @Test
    void aSwitchMovesTheOnCpuMarkAndCountsTheSwitchesOfTheTaskSwitchedIn() {
        long idle = Scheduler.idleTask(sched, 0);
        assertEquals(1, Memory.load32(idle + Task.ON_CPU), "cpu 0's idle task is on cpu 0");
        assertEquals(2, Memory.load32(Scheduler.idleTask(sched, 1) + Task.ON_CPU));
        long task = pinned(1, 0);
        runOnCpu0(task);
        assertEquals(1, Memory.load32(task + Task.ON_CPU));
        assertEquals(0, Memory.load32(idle + Task.ON_CPU), "finishSwitch took the idle task off");
        assertEquals(idle, Memory.load64(rq(0) + RunQueue.PREVIOUS));
        assertEquals(1, Task.switches(task));
        assertEquals(0L, Task.savedRsp(task), "a running task has no saved stack pointer");
        assertEquals(TaskState.RUNNING, Task.state(task));

        // The previous task already runs elsewhere: its mark is that CPU's, not ours to clear.
        Memory.store32(idle + Task.ON_CPU, 2);
        Scheduler.finishSwitch(sched, 0);
        assertEquals(2, Memory.load32(idle + Task.ON_CPU));
        Memory.store64(rq(0) + RunQueue.PREVIOUS, 0L);
        Scheduler.finishSwitch(sched, 0);
        Memory.store32(idle + Task.ON_CPU, 0);

        machine.scheduleAs(0);
        assertEquals(task, Scheduler.current(sched, 0), "alone: it keeps the CPU");
        assertEquals(1, Task.switches(task), "no switch happened");
        assertEquals(TaskState.RUNNING, Task.state(task));
        assertFalse(Scheduler.needResched(sched, 0));
    }

    @Test
    void onlyTheWakeOfTheCurrentSleepWinsAndACancelledBlockRunsOn() {
        long task = pinned(1, 0);
        runOnCpu0(task);
        int first = Scheduler.block(task);
        assertEquals(TaskState.BLOCKED, Task.state(task));
        assertTrue(Scheduler.cancelBlock(task, first));
        assertEquals(TaskState.RUNNING, Task.state(task));
        int second = Scheduler.block(task);
        assertEquals(first + 1, second, "each sleep has its own sequence");
        assertFalse(Scheduler.wake(sched, 0, task, first, Task.WOKEN), "a stale wake-up");
        assertEquals(TaskState.BLOCKED, Task.state(task));
        assertFalse(Scheduler.cancelBlock(task, first));
        assertTrue(Scheduler.wake(sched, 1, task, second, Task.TIMED_OUT));
        assertEquals(Task.TIMED_OUT, Task.wakeReason(task));
        assertFalse(Scheduler.wake(sched, 1, task, second, Task.WOKEN), "exactly one waker wins");
        assertFalse(Scheduler.cancelBlock(task, second), "the waker got there first");
        assertEquals(Task.TIMED_OUT, Task.wakeReason(task));
    }

    @Test
    void periodicBalancingRunsOnExactlyEveryIntervalthTick() {
        Scheduler.configure(sched, 1000, 3, 1);
        long mine = machine.create(1, (m, c, t) -> { });
        runOnCpu0(mine);
        Scheduler.setAffinity(sched, 0, mine, mask(0));
        for (int i = 0; i < 4; i++) {
            long t = machine.create(1, (m, c, x) -> { });
            Scheduler.setAffinity(sched, 0, t, mask(1));
            machine.start(0, t);
            if (i == 0) {
                machine.scheduleAs(1);
            }
            Scheduler.setAffinity(sched, 0, t, mask(0, 1));
        }
        assertEquals(3, RunQueue.count(rq(1)), "cpu 1 runs one and queues three");
        assertEquals(0, RunQueue.count(rq(0)));
        tick(0);
        assertEquals(1, Memory.load32(rq(0) + RunQueue.TICKS_SINCE_BALANCE));
        tick(0);
        assertEquals(2, Memory.load32(rq(0) + RunQueue.TICKS_SINCE_BALANCE));
        assertEquals(0, RunQueue.count(rq(0)), "not yet");
        tick(0);
        assertEquals(0, Memory.load32(rq(0) + RunQueue.TICKS_SINCE_BALANCE));
        assertEquals(1, RunQueue.count(rq(0)), "the third tick pulled one task");
        assertEquals(2, RunQueue.count(rq(1)));
        assertEquals(List.of(), machine.queueProblems());
    }

    @Test
    void eachCpuStartsOnItsOwnRunningIdleTask() {
        for (int cpu = 0; cpu < 2; cpu++) {
            long idle = Scheduler.idleTask(sched, cpu);
            assertEquals(idle, Scheduler.current(sched, cpu));
            assertTrue(Task.isIdle(idle));
            assertEquals(TaskState.RUNNING, Task.state(idle));
            assertEquals(cpu, Task.lastCpu(idle));
            assertEquals(0L, Task.savedRsp(idle), "on its CPU: no saved stack pointer");
            assertTrue(Task.allows(idle, cpu));
            assertFalse(Task.allows(idle, 1 - cpu), "an idle task never moves");
        }
        assertEquals(2, Scheduler.cpuCount(sched));
    }

    @Test
    void anIdleCpuTickAsksForASwitchWhenAnythingIsQueuedEvenUnasked() {
        long lowest = pinned(0, 0);
        Scheduler.placeOn(sched, 0, 0, lowest);
        Atomic.storeVolatile32(rq(0) + RunQueue.NEED_RESCHED, 0);
        assertTrue(tick(0), "priority 0 is work too");
        Scheduler.onRescheduleIpi(sched, 1);
        assertTrue(Scheduler.needResched(sched, 1), "a reschedule IPI asks for a switch");
        assertEquals(1, CpuStats.get(rq(1), CpuStats.IPIS_RECEIVED));
    }

    @Test
    void aCpuWhoseQueueRanDryPullsWorkBeforeItIdles() {
        long mine = pinned(1, 0);
        runOnCpu0(mine);
        long a = machine.create(1, (m, c, t) -> { });
        long b = machine.create(1, (m, c, t) -> { });
        for (long t : new long[] {a, b}) {
            Scheduler.setAffinity(sched, 0, t, mask(1));
            machine.start(1, t);
            Scheduler.setAffinity(sched, 0, t, mask(0, 1));
        }
        Scheduler.block(mine);
        machine.scheduleAs(0);
        assertEquals(a, Scheduler.current(sched, 0), "pulled from cpu 1 instead of idling");
        assertEquals(1, RunQueue.count(rq(1)));
    }

    @Test
    void theSwitchHandsBothFpuAreasToTheArchitecture() {
        List<long[]> calls = new ArrayList<>();
        Asm.hostDefine(SchedArch.CONTEXT_SWITCH, args -> {
            calls.add(args.clone());
            Atomic.storeVolatile64(args[0], 0x5AFE_0000L);
            return 0;
        });
        long task = pinned(1, 0);
        MemorySegment fpu = machine.arena.allocate(Scheduler.FXSAVE_SIZE, 16);
        Scheduler.makeUser(task, 0xC3000, 0x401000, 0x7FF000, fpu.address());
        long idle = Scheduler.idleTask(sched, 0);
        runOnCpu0(task);
        assertEquals(1, calls.size());
        assertEquals(idle + Task.SAVED_RSP, calls.get(0)[0], "where the idle task's stack pointer goes");
        assertEquals(TaskTable.NO_FRAME, calls.get(0)[1]);
        assertEquals(0L, calls.get(0)[2], "the idle task has no FPU area");
        assertEquals(fpu.address(), calls.get(0)[3]);
    }
}
