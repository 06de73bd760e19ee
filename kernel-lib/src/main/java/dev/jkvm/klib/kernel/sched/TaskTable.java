package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The fixed array of task records, sized once at boot, with a locked free list of slots. A
 * lock (not a lock-free stack) because a lock-free pop of a singly linked list suffers ABA when
 * a slot is freed and reused between a reader's load and its CAS; allocation is rare next to
 * scheduling, so one uncontended ticket lock costs nothing that matters.
 *
 * Layout of the header (HEADER bytes):
 * <pre>
 *   +0  TicketSpinLock lock
 *   +16 long freeHead     first free slot's record, 0 when full
 *   +24 int  live         allocated slots
 *   +28 int  capacity
 *   +32 long slots        address of slot 0; slot i is at slots + i * Task.SIZE
 * </pre>
 * A slot's generation grows at every allocation; a slot whose generation would wrap is retired
 * instead of freed, so an ID is never handed out twice.
 */
public final class TaskTable {
    private TaskTable() {
    }

    public static final int LOCK = 0;
    public static final int FREE_HEAD = 16;
    public static final int LIVE = 24;
    public static final int CAPACITY = 28;
    public static final int SLOTS = 32;
    public static final int HEADER = 64;

    /** Marks a task that is off CPU but has no stack frame yet (host tests build none). */
    public static final long NO_FRAME = 1;

    public static void init(long table, long slots, int capacity) {
        TicketSpinLock.init(table + LOCK);
        Memory.store32(table + LIVE, 0);
        Memory.store32(table + CAPACITY, capacity);
        Memory.store64(table + SLOTS, slots);
        Memory.store64(table + FREE_HEAD, 0L);
        for (int slot = capacity - 1; slot >= 0; slot--) {
            long task = slots + (long) slot * Task.SIZE;
            for (int offset = 0; offset < Task.SIZE; offset += 8) {
                Memory.store64(task + offset, 0L);
            }
            Memory.store32(task + Task.SLOT, slot);
            Memory.store64(task + Task.FREE_NEXT, Memory.load64(table + FREE_HEAD));
            Memory.store64(table + FREE_HEAD, task);
        }
    }

    public static int capacity(long table) {
        return Memory.load32(table + CAPACITY);
    }

    public static int live(long table) {
        return Atomic.loadVolatile32(table + LIVE);
    }

    /** The record of a slot (whatever its state). */
    public static long slot(long table, int slot) {
        return Memory.load64(table + SLOTS) + (long) slot * Task.SIZE;
    }

    /**
     * Takes a free slot and initialises it as a CREATED kernel task of priority 0 with an empty
     * affinity, a fresh ID and zeroed accounting; 0 when the table is full.
     */
    public static long allocate(long table) {
        TicketSpinLock.lock(table + LOCK);
        long task = Memory.load64(table + FREE_HEAD);
        if (task != 0) {
            Memory.store64(table + FREE_HEAD, Memory.load64(task + Task.FREE_NEXT));
            Atomic.storeVolatile32(table + LIVE, Memory.load32(table + LIVE) + 1);
        }
        TicketSpinLock.unlock(table + LOCK);
        if (task == 0) {
            return 0L;
        }
        int generation = Memory.load32(task + Task.GENERATION) + 1;
        int slot = Memory.load32(task + Task.SLOT);
        MemoryBlock.zero(task, Task.SIZE);
        Memory.store32(task + Task.GENERATION, generation);
        Memory.store32(task + Task.SLOT, slot);
        Memory.store64(task + Task.ID, ((long) generation << 32) | slot);
        Memory.store32(task + Task.LAST_CPU, -1);
        Memory.store64(task + Task.SAVED_RSP, NO_FRAME);
        WaitQueue.init(task + Task.JOINERS);
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(0, TaskState.CREATED));
        return task;
    }

    /**
     * Returns an exited (or never started) task's slot. Waits until the task has left its CPU
     * (its saved RSP is stored, SchedArch), because the CPU that switched away from it may
     * still be on its stack. The kernel frees the task's stack itself, after this returns.
     */
    public static void release(long table, long task) {
        while (Task.savedRsp(task) == 0) {
            Cpu.pause();
        }
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(0, TaskState.FREE));
        boolean retire = Memory.load32(task + Task.GENERATION) == 0x7FFFFFFF;
        TicketSpinLock.lock(table + LOCK);
        if (!retire) {
            Memory.store64(task + Task.FREE_NEXT, Memory.load64(table + FREE_HEAD));
            Memory.store64(table + FREE_HEAD, task);
        }
        Atomic.storeVolatile32(table + LIVE, Memory.load32(table + LIVE) - 1);
        TicketSpinLock.unlock(table + LOCK);
    }

    /** The live task with this ID, or 0 when the ID is stale or was never issued. */
    public static long lookup(long table, long id) {
        int slot = (int) id;
        if (slot < 0 || slot >= capacity(table)) {
            return 0L;
        }
        long task = slot(table, slot);
        if (Task.state(task) == TaskState.FREE || Memory.load64(task + Task.ID) != id) {
            return 0L;
        }
        return task;
    }
}
