package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A wait queue driven step by step on a simulated machine: waiters are woken in the order they
 * queued, a waiter that gives up leaves from any position, a wait that ends before anyone woke
 * the task cancels its block, and one that ends after a wake-up reports the wake-up in flight.
 * The queue record starts out as garbage. The simulations only ever had one waiter per queue
 * leave through a wake-up, where PIT found the list handling surviving its mutants.
 */
class WaitQueueTest {
    private SimMachine machine;
    private long wq;

    @BeforeEach
    void setUp() {
        machine = new SimMachine(2, 8, false);
        wq = machine.arena.allocate(WaitQueue.SIZE, 64).fill((byte) 0xA5).address();
        WaitQueue.init(wq);
    }

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), List.copyOf(machine.violations));
        machine.close();
    }

    private long waiter() {
        long task = machine.create(1, (m, cpu, t) -> { });
        assertEquals(0L, Memory.load64(task + Task.WAIT_QUEUE));
        return task;
    }

    private static void assertOffTheQueue(long task) {
        assertEquals(0L, Memory.load64(task + Task.WAIT_QUEUE));
        assertEquals(0L, Memory.load64(task + Task.WAIT_NEXT));
        assertEquals(0L, Memory.load64(task + Task.WAIT_PREV));
    }

    @Test
    void waitersAreWokenInTheOrderTheyQueued() {
        assertEquals(0, WaitQueue.waiters(wq));
        assertEquals(0L, WaitQueue.wakeOne(machine.sched, 0, wq), "nobody waits");
        long t1 = waiter();
        long t2 = waiter();
        long t3 = waiter();
        int sequence = WaitQueue.prepareToWait(wq, t1);
        assertEquals(TaskState.BLOCKED, Task.state(t1));
        assertEquals(sequence, TaskState.sequence(Task.stateWord(t1)));
        WaitQueue.prepareToWait(wq, t2);
        WaitQueue.prepareToWait(wq, t3);
        assertEquals(3, WaitQueue.waiters(wq));
        assertEquals(wq, Memory.load64(t2 + Task.WAIT_QUEUE));

        assertEquals(t1, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertOffTheQueue(t1);
        assertEquals(TaskState.RUNNABLE, Task.state(t1), "placed on a run queue");
        assertEquals(Task.WOKEN, Task.wakeReason(t1));
        assertEquals(TaskState.BLOCKED, Task.state(t2), "the others still sleep");
        assertEquals(2, WaitQueue.waiters(wq));
        assertEquals(t2, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertEquals(t3, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertEquals(0, WaitQueue.waiters(wq));
        assertEquals(0L, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertEquals(TaskState.RUNNABLE, Task.state(t3));
    }

    @Test
    void aWaiterLeavingFromTheMiddleKeepsTheOthersInOrder() {
        long t1 = waiter();
        long t2 = waiter();
        long t3 = waiter();
        long t4 = waiter();
        for (long t : new long[] {t1, t2, t3, t4}) {
            WaitQueue.prepareToWait(wq, t);
        }
        // Not woken: the wait ends with the block cancelled, the task RUNNING again.
        assertFalse(WaitQueue.finishWait(machine.sched, wq, t2));
        assertEquals(TaskState.RUNNING, Task.state(t2));
        assertOffTheQueue(t2);
        assertFalse(WaitQueue.finishWait(machine.sched, wq, t4), "the tail");
        assertOffTheQueue(t4);
        assertEquals(2, WaitQueue.waiters(wq));
        assertEquals(t1, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertFalse(WaitQueue.finishWait(machine.sched, wq, t3), "the head, last one left");
        assertEquals(0, WaitQueue.waiters(wq));
        assertEquals(0L, WaitQueue.wakeOne(machine.sched, 0, wq));
        // The emptied queue takes new waiters as head and tail again.
        WaitQueue.prepareToWait(wq, t2);
        WaitQueue.prepareToWait(wq, t4);
        assertEquals(2, WaitQueue.wakeAll(machine.sched, 1, wq));
        assertEquals(TaskState.RUNNABLE, Task.state(t2));
        assertEquals(TaskState.RUNNABLE, Task.state(t4));
        assertEquals(0, WaitQueue.wakeAll(machine.sched, 1, wq));
    }

    @Test
    void aWaitEndingAfterItsWakeUpReportsTheWakeUpInFlight() {
        long task = waiter();
        WaitQueue.prepareToWait(wq, task);
        assertEquals(task, WaitQueue.wakeOne(machine.sched, 0, wq));
        assertTrue(WaitQueue.finishWait(machine.sched, wq, task), "woken, not yet running: it must go through schedule");
        assertEquals(TaskState.RUNNABLE, Task.state(task), "finishWait leaves a woken task alone");
        assertEquals(0, WaitQueue.waiters(wq));
    }

    @Test
    void aTaskOnTwoWaitQueuesIsAKernelBug() {
        long other = machine.arena.allocate(WaitQueue.SIZE, 64).address();
        WaitQueue.init(other);
        long task = waiter();
        WaitQueue.prepareToWait(wq, task);
        assertThrows(AssertionError.class, () -> WaitQueue.prepareToWait(other, task));
        assertEquals(0, WaitQueue.waiters(other));
        assertEquals(1, WaitQueue.waiters(wq));
    }
}
