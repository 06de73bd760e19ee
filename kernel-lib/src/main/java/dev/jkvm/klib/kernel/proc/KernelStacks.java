package dev.jkvm.klib.kernel.proc;

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
    private static long bases;
    private static long free;
    private static int freeCount;
    private static int capacity;

    /** Reserves count stacks; call before PageTables.build. */
    public static void reserve(int count) {
        lock = BootAllocator.allocate(TicketSpinLock.SIZE, 64);
        TicketSpinLock.init(lock);
        bases = BootAllocator.allocate(count * 8L, 8);
        free = BootAllocator.allocate(count * 4L, 8);
        for (int i = 0; i < count; i++) {
            Memory.store64(bases + i * 8L, BootAllocator.stack(STACK_SIZE) - STACK_SIZE);
            Memory.store32(free + i * 4L, count - 1 - i);
        }
        freeCount = count;
        capacity = count;
    }

    /**
     * The index of a free stack, or -1 when every stack is in use. The index also names the
     * user-mode resources that go with a stack (UserSpace: user stack, FXSAVE area).
     */
    public static int take() {
        TicketSpinLock.lock(lock);
        int index = -1;
        if (freeCount > 0) {
            freeCount--;
            index = Memory.load32(free + freeCount * 4L);
        }
        TicketSpinLock.unlock(lock);
        return index;
    }

    public static void give(int index) {
        TicketSpinLock.lock(lock);
        Memory.store32(free + freeCount * 4L, index);
        freeCount++;
        TicketSpinLock.unlock(lock);
    }

    /** The lowest address of the stack with this index. */
    public static long base(int index) {
        return Memory.load64(bases + index * 8L);
    }

    /**
     * The index of the stack whose lowest address is base. The boot allocator hands the stacks
     * out at a regular stride, so the index is computed and checked first; the search only
     * runs if that guess fails (every emulated ring-0 instruction counts on hosts like ours).
     */
    public static int indexOf(long base) {
        if (capacity > 1) {
            long first = Memory.load64(bases);
            long stride = Memory.load64(bases + 8) - first;
            long distance = base - first;
            if (stride != 0 && distance % stride == 0) {
                long guess = distance / stride;
                if (guess >= 0 && guess < capacity && Memory.load64(bases + guess * 8L) == base) {
                    return (int) guess;
                }
            }
        }
        for (int i = 0; i < capacity; i++) {
            if (Memory.load64(bases + i * 8L) == base) {
                return i;
            }
        }
        return -1;
    }

    public static int capacity() {
        return capacity;
    }

    public static int available() {
        return freeCount;
    }
}
