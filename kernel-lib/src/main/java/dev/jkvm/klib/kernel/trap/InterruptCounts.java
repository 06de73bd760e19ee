package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.rt.PerCpu;

/**
 * What the trap dispatcher (kernel.Traps) counted on this CPU. The counters live here, below the
 * dispatcher, so that reports and self-tests in lower layers can read them without calling up.
 * Each is a @PerCpu field: only its own CPU writes it, with interrupts off.
 */
public final class InterruptCounts {
    private InterruptCounts() {
    }

    @PerCpu
    private static long interrupts;
    @PerCpu
    private static int spurious;
    /** System calls that arrived as a user-mode page fault on the SYSCALL entry. */
    @PerCpu
    private static long systemCallsByFault;

    public static void noteInterrupt() {
        interrupts++;
    }

    public static void noteSpurious() {
        spurious++;
    }

    public static void noteSystemCallByFault() {
        systemCallsByFault++;
    }

    /** Interrupts and exceptions this CPU has handled (system calls aside). */
    public static long interrupts() {
        return interrupts;
    }

    public static int spurious() {
        return spurious;
    }

    public static long systemCallsByFault() {
        return systemCallsByFault;
    }
}
