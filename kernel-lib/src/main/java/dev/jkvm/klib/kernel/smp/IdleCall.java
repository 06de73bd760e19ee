package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * A function the boot CPU hands to idle APs to run in their idle loop, outside interrupt
 * context and with interrupts enabled (before the scheduler runs; it then has tasks for this).
 *
 * CallFunction runs its functions inside the mailbox IPI's handler, where that vector stays in
 * service until the EOI: an IPI of the same vector can only wait in IRR behind it (Intel SDM
 * Vol. 3A 11.8.4). Work that must itself be interrupted by mailbox IPIs while it runs, such as
 * the IPI storm in which every CPU both sends and receives, needs this path.
 *
 * Layout (64-byte aligned): +0 int function id, +4 int finished count, +8 long argument,
 * +64 CpuMask of the CPUs asked and not yet started.
 */
public final class IdleCall {
    private IdleCall() {
    }

    private static final int FUNCTION_ID = 0;
    private static final int FINISHED = 4;
    private static final int ARGUMENT = 8;
    private static final int REQUESTED = 64;

    private static long state;

    public static long bytes() {
        return REQUESTED + CpuMask.SIZE;
    }

    public static void init() {
        state = BootAllocator.allocate(bytes(), 64);
        Asm.call("kernel_memzero", state, bytes());
    }

    /**
     * Asks every CPU of the mask except the caller to run the function once, waking each with a
     * RESCHEDULE request; returns how many were asked. finished() counts those that returned.
     */
    public static int start(int functionId, long argument, long cpuMask, int selfCpu) {
        Memory.store32(state + FUNCTION_ID, functionId);
        Memory.store64(state + ARGUMENT, argument);
        Atomic.storeVolatile32(state + FINISHED, 0);
        int asked = 0;
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                CpuMask.set(state + REQUESTED, cpu);
                IpiMailbox.post(SmpState.mailbox(), cpu, IpiReason.RESCHEDULE);
                asked++;
            }
        }
        return asked;
    }

    public static int finished() {
        return Atomic.loadVolatile32(state + FINISHED);
    }

    /**
     * One pass of an AP's idle loop: halts until an interrupt unless work is waiting, then runs
     * the work if there is any. Interrupts are off from the check to the HLT (STI's one-
     * instruction shadow covers the HLT), so a request posted in between is not slept through.
     */
    public static void idleOnce(int cpu) {
        Cpu.cli();
        if (!CpuMask.contains(state + REQUESTED, cpu)) {
            Asm.call("kernel_wait_for_interrupt");
        }
        if (CpuMask.clear(state + REQUESTED, cpu)) {
            Cpu.sti();
            CallFunctionDispatch.run(Memory.load32(state + FUNCTION_ID), Memory.load64(state + ARGUMENT), cpu);
            Atomic.fetchAdd32Release(state + FINISHED, 1);
        }
        Cpu.sti();
    }
}
