package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Memory;

/**
 * A pool of task kernel stacks, each above its own guard page. The pool is carved out of the boot
 * allocator before the kernel's page tables are built, because only then do the guard pages end
 * up unmapped (PageTables leaves every recorded guard not present), so a task's stack overflow
 * faults instead of running into its neighbour. Stacks are recycled through a locked stack of
 * free bases; a task's stack returns to the pool once the task has been reaped.
 */
public final class KernelStacks {
    private KernelStacks() {
    }

    /** Enough for compiled kernel code plus two nested trap frames. */
    public static final long STACK_SIZE = 16 * 1024;

    private static long lock;
    private static long free;
    private static int freeCount;
    private static int capacity;

    /** Reserves count stacks; call before PageTables.build. */
    public static void reserve(int count) {
        lock = BootAllocator.allocate(TicketSpinLock.SIZE, 64);
        TicketSpinLock.init(lock);
        free = BootAllocator.allocate(count * 8L, 8);
        for (int i = 0; i < count; i++) {
            Memory.store64(free + i * 8L, BootAllocator.stack(STACK_SIZE) - STACK_SIZE);
        }
        freeCount = count;
        capacity = count;
    }

    /** The lowest address of a free stack, or 0 when every stack is in use. */
    public static long take() {
        TicketSpinLock.lock(lock);
        long base = 0;
        if (freeCount > 0) {
            freeCount--;
            base = Memory.load64(free + freeCount * 8L);
        }
        TicketSpinLock.unlock(lock);
        return base;
    }

    public static void give(long base) {
        TicketSpinLock.lock(lock);
        Memory.store64(free + freeCount * 8L, base);
        freeCount++;
        TicketSpinLock.unlock(lock);
    }

    public static int capacity() {
        return capacity;
    }

    public static int available() {
        return freeCount;
    }
}
