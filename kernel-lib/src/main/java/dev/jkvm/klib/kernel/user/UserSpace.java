package dev.jkvm.klib.kernel.user;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.BlockingSemaphore;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * What ring 3 may touch, and how it gets back into ring 0. The user programs' text, rodata and
 * data (placed by build.UserSpaceBuild on pages of their own right after the kernel's) and one
 * 2 MiB arena of user stacks are the only user-accessible pages; everything else keeps U/S clear.
 * Each kernel stack index (KernelStacks) owns one user stack slot and one FXSAVE area.
 */
public final class UserSpace {
    private UserSpace() {
    }

    public static final long USER_STACK_SIZE = 16 * 1024;
    public static final int SEMAPHORES = 16;
    private static final long TWO_MIB = 1L << 21;
    private static final long FPU_AREA_SIZE = Scheduler.FXSAVE_SIZE;

    private static long stackArena;
    private static long fpuAreas;
    private static long semaphores;
    private static int stackSlots;

    /** Boot CPU, after the kernel's page tables are live and before the APs start. */
    public static void init(int stackCount) {
        openRange(KernelLayout.get(KernelLayout.TEXT_END), KernelLayout.get(KernelLayout.USER_TEXT_END), false, true);
        openRange(KernelLayout.get(KernelLayout.RODATA_END), KernelLayout.get(KernelLayout.USER_RODATA_END), false,
                false);
        openRange(KernelLayout.get(KernelLayout.DATA_END), KernelLayout.get(KernelLayout.USER_DATA_END), true, false);
        stackSlots = stackCount;
        stackArena = BootAllocator.allocate(TWO_MIB, TWO_MIB);
        if (stackCount * USER_STACK_SIZE > TWO_MIB) {
            stackSlots = (int) (TWO_MIB / USER_STACK_SIZE);
        }
        PageTables.allowUser(stackArena, true, false);
        Cpu.writeCr3(Cpu.readCr3());
        fpuAreas = BootAllocator.allocate(stackCount * FPU_AREA_SIZE, 64);
        semaphores = BootAllocator.allocate(SEMAPHORES * (long) BlockingSemaphore.SIZE, 64);
        for (int i = 0; i < SEMAPHORES; i++) {
            BlockingSemaphore.init(semaphores + i * (long) BlockingSemaphore.SIZE, 0);
        }
    }

    /** Pages from the one after kernelEnd's up to userEnd (both from the layout table). */
    private static void openRange(long kernelEnd, long userEnd, boolean writable, boolean executable) {
        for (long page = BootAllocator.alignUp(kernelEnd, BootAllocator.PAGE); page < userEnd; page += BootAllocator.PAGE) {
            PageTables.allowUser(page, writable, executable);
        }
    }

    /** Whether [address, address + length) lies inside user-accessible memory. */
    public static boolean isUserRange(long address, long length) {
        if (length < 0 || address + length < address) {
            return false;
        }
        return within(address, length, KernelLayout.get(KernelLayout.TEXT_END), KernelLayout.get(KernelLayout.USER_TEXT_END))
                || within(address, length, KernelLayout.get(KernelLayout.RODATA_END),
                        KernelLayout.get(KernelLayout.USER_RODATA_END))
                || within(address, length, KernelLayout.get(KernelLayout.DATA_END),
                        KernelLayout.get(KernelLayout.USER_DATA_END))
                || within(address, length, stackArena, stackArena + stackSlots * USER_STACK_SIZE);
    }

    private static boolean within(long address, long length, long kernelEnd, long userEnd) {
        long start = BootAllocator.alignUp(kernelEnd, BootAllocator.PAGE);
        return address >= start && address + length <= userEnd;
    }

    /** The entry stub of a user program (UserPrograms numbers). */
    public static long entry(int program) {
        return Memory.load64(KernelLayout.get(KernelLayout.USER_ENTRIES) + program * 8L);
    }

    /** The top of the user stack of kernel stack index i (0 when there is no slot for it). */
    public static long stackTop(int index) {
        if (index >= stackSlots) {
            return 0L;
        }
        return stackArena + (index + 1) * USER_STACK_SIZE;
    }

    /** The FXSAVE area of kernel stack index i (Scheduler.makeUser gives it the initial FPU state). */
    public static long fpuArea(int index) {
        return fpuAreas + index * FPU_AREA_SIZE;
    }

    /** Resets a shared semaphore (no task may be waiting on it). */
    public static void resetSemaphore(int id, int count) {
        BlockingSemaphore.init(semaphore(id), count);
    }

    /** A shared semaphore by id, or 0 for an id out of range. */
    public static long semaphore(long id) {
        if (id < 0 || id >= SEMAPHORES) {
            return 0L;
        }
        return semaphores + id * BlockingSemaphore.SIZE;
    }
}
