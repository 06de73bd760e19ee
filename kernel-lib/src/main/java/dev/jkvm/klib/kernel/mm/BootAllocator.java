package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Hands out physical memory after the kernel image, once, never to be freed: per-CPU areas,
 * stacks, descriptor tables, page tables. Stacks get an unmapped guard page below them (the page
 * tables leave every recorded guard page not-present), so an overflow faults instead of silently
 * overwriting whatever lies below.
 */
public final class BootAllocator {
    private BootAllocator() {
    }

    public static final long PAGE = 4096;
    private static final int GUARD_CAPACITY = 4096;

    private static long nextFree;
    private static long end;
    private static long guards;
    private static int guardsRecorded;

    public static void init(long start, long limit) {
        nextFree = alignUp(start, PAGE);
        end = limit;
        guards = allocate(GUARD_CAPACITY * 8L, 8);
        guardsRecorded = 0;
    }

    public static long allocate(long bytes, long alignment) {
        long at = alignUp(nextFree, alignment);
        if (at + bytes > end || at + bytes < at) {
            Console.print("boot allocator: out of memory (give the VM more RAM)\n");
            MmPanic.halt();
        }
        nextFree = at + bytes;
        return at;
    }

    public static long pages(long count) {
        return allocate(count * PAGE, PAGE);
    }

    /** A stack of the given size above a fresh guard page; returns the stack's top. */
    public static long stack(long bytes) {
        long guard = pages(1);
        addGuard(guard);
        long bottom = allocate(alignUp(bytes, PAGE), PAGE);
        return bottom + alignUp(bytes, PAGE);
    }

    public static void addGuard(long page) {
        if (guardsRecorded < GUARD_CAPACITY) {
            Memory.store64(guards + guardsRecorded * 8L, page);
            guardsRecorded++;
        }
    }

    public static int guardCount() {
        return guardsRecorded;
    }

    public static long guard(int index) {
        return Memory.load64(guards + index * 8L);
    }

    /** The first byte not handed out yet. */
    public static long next() {
        return nextFree;
    }

    public static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
