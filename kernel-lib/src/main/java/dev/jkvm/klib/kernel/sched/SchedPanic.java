package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.sync.SyncPanic;
import dev.jkvm.klib.rt.Console;

/**
 * Stops the kernel when a scheduler invariant is broken (a task queued twice, a run queue
 * count gone negative): these are kernel bugs, and going on would lose or duplicate a task.
 * The value printed is the task or queue concerned.
 */
public final class SchedPanic {
    private SchedPanic() {
    }

    public static void taskQueuedTwice(long task) {
        Console.print("sched: task already on a run queue: ");
        Console.printHex(task);
        Console.print("\n");
        SyncPanic.halt();
    }

    public static void taskNotQueued(long task) {
        Console.print("sched: dequeue of a task not on this run queue: ");
        Console.printHex(task);
        Console.print("\n");
        SyncPanic.halt();
    }

    public static void taskOnTwoWaitQueues(long task) {
        Console.print("sched: task already on a wait queue: ");
        Console.printHex(task);
        Console.print("\n");
        SyncPanic.halt();
    }

    public static void badPriority(long priority) {
        Console.print("sched: priority out of range: ");
        Console.printHex(priority);
        Console.print("\n");
        SyncPanic.halt();
    }
}
