package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.SyncPanic;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One run queue on its own, without a scheduler around it: priority order, FIFO within a level,
 * unlinking from any position, the level bitmap, the counts, and the balancer's look for a
 * movable task. The queue record starts out as garbage (init must set every field) and sits
 * between garbage guards. The scheduler simulations reach these only through whole scheduling
 * decisions, where PIT found wrong bounds and dropped stores surviving.
 */
class RunQueueTest {
    static final class Panicked extends RuntimeException {
    }

    private static final byte GARBAGE = (byte) 0xA5;
    private static final int GUARD = 64;
    private static final int CPU = 3;

    private HostArena arena;
    private MemorySegment region;
    private long rq;
    private long idle;

    @BeforeEach
    void setUp() {
        arena = HostArena.ofConfined();
        region = arena.allocate(GUARD + RunQueue.SIZE + GUARD, 64).fill(GARBAGE);
        rq = region.address() + GUARD;
        idle = task(0);
        Memory.store32(idle + Task.FLAGS, Task.FLAG_IDLE);
        RunQueue.init(rq, idle);
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new Panicked();
        });
        Console.hostClear();
    }

    @AfterEach
    void tearDown() {
        for (long i = 0; i < GUARD; i++) {
            assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, i), "byte " + (GUARD - i) + " before the queue");
            assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, GUARD + RunQueue.SIZE + i), "byte " + i + " after the queue");
        }
        arena.close();
    }

    /** A task record of the priority allowed on the given CPUs, its links full of garbage. */
    private long task(int priority, int... cpus) {
        long task = arena.allocate(Task.SIZE, 64).fill(GARBAGE).address();
        Memory.store32(task + Task.PRIORITY, priority);
        Memory.store32(task + Task.QUEUED_ON, 0);
        Memory.store32(task + Task.FLAGS, 0);
        CpuMask.clearAll(task + Task.AFFINITY);
        for (int cpu : cpus) {
            CpuMask.set(task + Task.AFFINITY, cpu);
        }
        return task;
    }

    @Test
    void initLeavesAnEmptyUnlockedQueueRunningItsIdleTask() {
        assertEquals(0, RunQueue.count(rq));
        assertEquals(-1, RunQueue.highestLevel(rq));
        assertEquals(0L, RunQueue.peekNext(rq));
        assertEquals(0L, RunQueue.pickNext(rq, CPU));
        assertEquals(idle, RunQueue.current(rq));
        assertEquals(idle, RunQueue.idle(rq));
        assertEquals(0, RunQueue.load(rq), "an idling CPU has no load");
        assertFalse(RunQueue.needResched(rq));
        assertFalse(TicketSpinLock.isLocked(rq + RunQueue.LOCK));
        assertEquals(0L, Memory.load64(rq + RunQueue.PREVIOUS));
        assertEquals(0, Memory.load32(rq + RunQueue.TICKS_SINCE_BALANCE));
        assertEquals(0L, Memory.load64(rq + RunQueue.TIMER_HEAD));
        for (int offset = 0; offset < CpuStats.SIZE; offset += 8) {
            assertEquals(0L, Memory.load64(rq + RunQueue.STATS + offset), "statistics +" + offset);
        }
        assertFalse(RunQueue.mayHaveMovable(rq, 0, false));
        assertEquals(0L, RunQueue.firstMovable(rq, 0, false));
        RunQueue.lock(rq);
        assertTrue(TicketSpinLock.isLocked(rq + RunQueue.LOCK));
        RunQueue.unlock(rq);
        assertFalse(TicketSpinLock.isLocked(rq + RunQueue.LOCK));
        RunQueue.setNeedResched(rq);
        assertTrue(RunQueue.needResched(rq));
    }

    @Test
    void higherLevelsFirstAndFifoWithinALevel() {
        long low = task(0, CPU);
        long a = task(5, CPU);
        long b = task(5, CPU);
        long top = task(RunQueue.LEVELS - 1, CPU);
        RunQueue.enqueue(rq, CPU, low);
        RunQueue.enqueue(rq, CPU, a);
        RunQueue.enqueue(rq, CPU, b);
        assertEquals(CPU + 1, Memory.load32(a + Task.QUEUED_ON), "queued on cpu 3");
        assertEquals(3, RunQueue.count(rq));
        assertEquals(5, RunQueue.highestLevel(rq));
        assertEquals(a, RunQueue.peekNext(rq));
        RunQueue.enqueue(rq, CPU, top);
        assertEquals(RunQueue.LEVELS - 1, RunQueue.highestLevel(rq));
        assertEquals(4, RunQueue.count(rq));
        assertEquals(4, RunQueue.load(rq), "the idle task does not count");

        assertEquals(top, RunQueue.pickNext(rq, CPU));
        assertEquals(0, Memory.load32(top + Task.QUEUED_ON));
        assertEquals(0L, Memory.load64(top + Task.QUEUE_NEXT));
        assertEquals(0L, Memory.load64(top + Task.QUEUE_PREV));
        assertEquals(5, RunQueue.highestLevel(rq), "level 7 emptied");
        assertEquals(a, RunQueue.pickNext(rq, CPU));
        assertEquals(5, RunQueue.highestLevel(rq), "b still waits on level 5");
        assertEquals(b, RunQueue.pickNext(rq, CPU));
        assertEquals(0, RunQueue.highestLevel(rq));
        assertEquals(low, RunQueue.pickNext(rq, CPU));
        assertEquals(-1, RunQueue.highestLevel(rq));
        assertEquals(0, RunQueue.count(rq));
        assertEquals(0L, RunQueue.pickNext(rq, CPU));
    }

    @Test
    void dequeueUnlinksFromTheHeadTheMiddleAndTheTail() {
        long t1 = task(2, CPU);
        long t2 = task(2, CPU);
        long t3 = task(2, CPU);
        long t4 = task(2, CPU);
        for (long t : new long[] {t1, t2, t3, t4}) {
            RunQueue.enqueue(rq, CPU, t);
        }
        RunQueue.dequeue(rq, CPU, t2);
        assertEquals(0L, Memory.load64(t2 + Task.QUEUE_NEXT), "a dequeued task keeps no links");
        assertEquals(0L, Memory.load64(t2 + Task.QUEUE_PREV));
        assertEquals(0, Memory.load32(t2 + Task.QUEUED_ON));
        RunQueue.dequeue(rq, CPU, t4);
        assertEquals(2, RunQueue.count(rq));
        long t5 = task(2, CPU);
        RunQueue.enqueue(rq, CPU, t5);
        RunQueue.dequeue(rq, CPU, t1);
        assertEquals(t3, RunQueue.pickNext(rq, CPU));
        assertEquals(t5, RunQueue.pickNext(rq, CPU));
        assertEquals(-1, RunQueue.highestLevel(rq));
        assertEquals(0, RunQueue.count(rq));
        RunQueue.enqueue(rq, CPU, t2);
        assertEquals(t2, RunQueue.peekNext(rq), "the emptied level takes a new head");
        assertEquals(2, RunQueue.highestLevel(rq));
    }

    @Test
    void queueingTwiceOrDequeueingElsewherePanics() {
        long t = task(1, CPU);
        RunQueue.enqueue(rq, CPU, t);
        assertThrows(Panicked.class, () -> RunQueue.enqueue(rq, CPU, t));
        assertThrows(Panicked.class, () -> RunQueue.dequeue(rq, CPU + 1, t), "queued on another CPU's queue");
        assertEquals(1, RunQueue.count(rq));
        RunQueue.dequeue(rq, CPU, t);
        assertThrows(Panicked.class, () -> RunQueue.dequeue(rq, CPU, t));
        assertEquals(0, RunQueue.count(rq));
    }

    @Test
    void loadCountsTheRunningTaskUnlessItIsTheIdleTask() {
        long running = task(3, CPU);
        Memory.store64(rq + RunQueue.CURRENT, running);
        assertEquals(1, RunQueue.load(rq));
        RunQueue.enqueue(rq, CPU, task(3, CPU));
        assertEquals(2, RunQueue.load(rq));
        Memory.store64(rq + RunQueue.CURRENT, 0L);
        assertEquals(1, RunQueue.load(rq));
    }

    @Test
    void aBalancerFindsTheFirstTaskAllowedOnItsCpu() {
        long pinned = task(6, CPU);
        long movableHigh = task(6, CPU, 1);
        long movableLow = task(1, CPU, 1, 2);
        RunQueue.enqueue(rq, CPU, pinned);
        RunQueue.enqueue(rq, CPU, movableHigh);
        RunQueue.enqueue(rq, CPU, movableLow);

        assertEquals(movableHigh, RunQueue.firstMovable(rq, 1, false));
        assertTrue(RunQueue.mayHaveMovable(rq, 1, false));
        assertEquals(movableLow, RunQueue.firstMovable(rq, 2, false), "lower levels too");
        assertTrue(RunQueue.mayHaveMovable(rq, 2, false));
        assertEquals(0L, RunQueue.firstMovable(rq, 0, false), "nothing may run on cpu 0");
        assertFalse(RunQueue.mayHaveMovable(rq, 0, false));

        // keepHead spares the task the CPU runs next (the pinned head here), nothing else.
        assertEquals(movableHigh, RunQueue.firstMovable(rq, 1, true));
        assertTrue(RunQueue.mayHaveMovable(rq, 1, true));
        RunQueue.dequeue(rq, CPU, pinned);
        assertEquals(movableLow, RunQueue.firstMovable(rq, 1, true), "the head, movableHigh, stays");
        assertTrue(RunQueue.mayHaveMovable(rq, 1, true));
        RunQueue.dequeue(rq, CPU, movableLow);
        assertEquals(0L, RunQueue.firstMovable(rq, 1, true), "the only waiting task stays");
        assertFalse(RunQueue.mayHaveMovable(rq, 1, true));
        assertEquals(movableHigh, RunQueue.firstMovable(rq, 1, false));
        assertTrue(RunQueue.mayHaveMovable(rq, 1, false));
    }

    @Test
    void theLowestLevelIsSearchedToo() {
        long pinned = task(0, CPU);
        long movable = task(0, CPU, 1);
        RunQueue.enqueue(rq, CPU, pinned);
        RunQueue.enqueue(rq, CPU, movable);
        assertEquals(0, RunQueue.highestLevel(rq));
        assertEquals(movable, RunQueue.firstMovable(rq, 1, false));
        assertTrue(RunQueue.mayHaveMovable(rq, 1, false));
        assertEquals(movable, RunQueue.firstMovable(rq, 1, true));
        assertTrue(RunQueue.mayHaveMovable(rq, 1, true));
    }

    @Test
    void theUnlockedLookStopsAfterCountTasks() {
        long first = task(4, CPU);
        long second = task(4, CPU, 1);
        RunQueue.enqueue(rq, CPU, first);
        RunQueue.enqueue(rq, CPU, second);
        assertTrue(RunQueue.mayHaveMovable(rq, 1, false));
        // A count that lags behind the list (read unlocked while a task is being queued): the
        // walk looks at no more tasks than the count says.
        Memory.store32(rq + RunQueue.COUNT, 1);
        assertFalse(RunQueue.mayHaveMovable(rq, 1, false));
        Memory.store32(rq + RunQueue.COUNT, 2);
        assertTrue(RunQueue.mayHaveMovable(rq, 1, false));
    }
}
