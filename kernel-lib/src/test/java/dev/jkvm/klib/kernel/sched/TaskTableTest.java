package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The task table on its own: slots handed out lowest first, each allocation a clean CREATED
 * record with a fresh ID, IDs that go stale when their slot is reused, and a slot retired for
 * good when its generation would wrap. Header and slots start as garbage between guards.
 */
class TaskTableTest {
    private static final byte GARBAGE = (byte) 0xA5;
    private static final int GUARD = 64;
    private static final int CAPACITY = 3;

    private HostArena arena;
    private MemorySegment header;
    private MemorySegment slots;
    private long table;

    private static MemorySegment guarded(HostArena arena, long size) {
        return arena.allocate(GUARD + size + GUARD, 64).fill(GARBAGE);
    }

    private static void assertGuards(MemorySegment region) {
        long size = region.byteSize() - 2 * GUARD;
        for (long i = 0; i < GUARD; i++) {
            assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, i), "byte " + (GUARD - i) + " before");
            assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, GUARD + size + i), "byte " + i + " after");
        }
    }

    @BeforeEach
    void setUp() {
        arena = HostArena.ofConfined();
        header = guarded(arena, TaskTable.HEADER);
        slots = guarded(arena, (long) CAPACITY * Task.SIZE);
        table = header.address() + GUARD;
        TaskTable.init(table, slots.address() + GUARD, CAPACITY);
    }

    @AfterEach
    void tearDown() {
        assertGuards(header);
        assertGuards(slots);
        arena.close();
    }

    @Test
    void slotsAreHandedOutLowestFirstAsCleanCreatedTasks() {
        assertEquals(CAPACITY, TaskTable.capacity(table));
        assertEquals(0, TaskTable.live(table));
        assertFalse(TicketSpinLock.isLocked(table + TaskTable.LOCK));
        for (int slot = 0; slot < CAPACITY; slot++) {
            long task = TaskTable.allocate(table);
            assertEquals(TaskTable.slot(table, slot), task, "slot " + slot);
            assertEquals(slot + 1, TaskTable.live(table));
            assertEquals((1L << 32) | slot, Task.id(task), "generation 1, slot " + slot);
            assertEquals(TaskState.CREATED, Task.state(task));
            assertEquals(0, Task.priority(task));
            assertEquals(-1, Task.lastCpu(task), "never ran");
            assertEquals(TaskTable.NO_FRAME, Task.savedRsp(task));
            assertEquals(0, CpuMask.count(Task.affinity(task)), "empty affinity");
            assertEquals(0, WaitQueue.waiters(Task.joiners(task)));
            assertEquals(0L, Task.runTsc(task));
            assertEquals(0L, Task.switches(task));
            assertEquals(0L, Memory.load64(task + Task.QUEUE_NEXT));
            assertEquals(task, TaskTable.lookup(table, Task.id(task)));
        }
        assertEquals(0L, TaskTable.allocate(table), "full");
        assertEquals(CAPACITY, TaskTable.live(table));
        assertFalse(TicketSpinLock.isLocked(table + TaskTable.LOCK));
    }

    @Test
    void aReleasedSlotComesBackWithANewGenerationAndTheOldIdGoesStale() {
        long first = TaskTable.allocate(table);
        long second = TaskTable.allocate(table);
        long oldId = Task.id(second);
        Memory.store32(second + Task.PRIORITY, 5);
        TaskTable.release(table, second);
        assertEquals(1, TaskTable.live(table));
        assertEquals(TaskState.FREE, Task.state(second));
        assertEquals(0L, TaskTable.lookup(table, oldId), "stale");
        long again = TaskTable.allocate(table);
        assertEquals(second, again, "the freed slot is reused first");
        assertEquals((2L << 32) | 1, Task.id(again));
        assertEquals(0, Task.priority(again), "cleared");
        assertEquals(0L, TaskTable.lookup(table, oldId));
        assertEquals(again, TaskTable.lookup(table, Task.id(again)));
        assertEquals(first, TaskTable.lookup(table, Task.id(first)));
        assertEquals(2, TaskTable.live(table));
    }

    @Test
    void releasingPushesOntoTheFreeListWithoutLosingTheRest() {
        long first = TaskTable.allocate(table);
        TaskTable.allocate(table);
        TaskTable.release(table, first);
        assertEquals(first, TaskTable.allocate(table), "the released slot first");
        assertEquals(TaskTable.slot(table, 2), TaskTable.allocate(table), "then the slot never used");
        assertEquals(0L, TaskTable.allocate(table));
    }

    @Test
    void lookupRefusesIdsOutsideTheTable() {
        long task = TaskTable.allocate(table);
        assertEquals(task, TaskTable.lookup(table, Task.id(task)));
        assertEquals(0L, TaskTable.lookup(table, (1L << 32) | CAPACITY), "slot past the end");
        assertEquals(0L, TaskTable.lookup(table, (1L << 32) | 0xFFFFFFFFL), "negative slot");
        assertEquals(0L, TaskTable.lookup(table, (1L << 32) | 1), "a free slot");
        assertEquals(0L, TaskTable.lookup(table, 0L), "generation 0 was never issued");
        assertNotEquals(0L, TaskTable.lookup(table, (1L << 32)));
    }

    @Test
    void aSlotWhoseGenerationWouldWrapIsRetired() {
        long task = TaskTable.allocate(table);
        Memory.store32(task + Task.GENERATION, 0x7FFFFFFF);
        TaskTable.release(table, task);
        assertEquals(0, TaskTable.live(table));
        assertNotEquals(task, TaskTable.allocate(table), "not handed out again");
        assertNotEquals(task, TaskTable.allocate(table));
        assertEquals(0L, TaskTable.allocate(table), "only two slots left");
    }
}
