package dev.jkvm.vmm.emulated.cpu;

import java.util.concurrent.locks.LockSupport;

/**
 * Events posted to one vCPU by other threads (LAPICs sending IPIs, the I/O APIC, timers, the VMM
 * kicking or stopping it), and the sleep of a halted vCPU until one arrives.
 *
 * <p>The vCPU thread reads {@link #pending} once per decoded block; posting sets a bit and unparks
 * the thread, so a halted vCPU wakes at once and a running one notices within one block. Bits are
 * never lost: {@link #take} clears only what it returns.
 */
public final class CpuEvents {
    /** The LAPIC has (or may have) a deliverable interrupt: re-check {@link InterruptController#pendingInterrupt}. */
    public static final int INTERRUPT = 1;
    public static final int NMI = 2;
    public static final int INIT = 4;
    /** A SIPI arrived; its vector is in {@link #sipiVector}. */
    public static final int SIPI = 8;
    /** The VMM wants {@code run} to return (pause, stop, or an embedder's kick). */
    public static final int KICK = 16;
    /** A timer of this vCPU's LAPIC may be due. */
    public static final int TIMER = 32;
    /**
     * Posted by the vCPU's own thread when an instruction needs the run loop before the next block:
     * an exit was recorded (port output, posted MMIO write), HLT, or RFLAGS.IF was set (STI, POPF,
     * IRET) so pending interrupts must be re-examined. Added by the system side (additive).
     */
    public static final int SELF = 64;

    private volatile int pending;
    private volatile Thread owner;
    public volatile int sipiVector;

    private static final java.lang.invoke.VarHandle PENDING;
    static {
        try {
            PENDING = java.lang.invoke.MethodHandles.lookup().findVarHandle(CpuEvents.class, "pending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The thread that runs this vCPU; set by it before it first reads events. */
    public void bindOwner(Thread t) { owner = t; }

    /** Posts {@code bits} and wakes the vCPU. Any thread. */
    public void post(int bits) {
        int old;
        do {
            old = pending;
        } while (!PENDING.compareAndSet(this, old, old | bits));
        Thread t = owner;
        if (t != null && t != Thread.currentThread()) LockSupport.unpark(t);
    }

    /** The posted bits, without clearing them. One volatile read: cheap enough once per block. */
    public int peek() { return pending; }

    /** Clears and returns those of {@code mask} that were posted. vCPU thread only. */
    public int take(int mask) {
        int old;
        do {
            old = pending;
            if ((old & mask) == 0) return 0;
        } while (!PENDING.compareAndSet(this, old, old & ~mask));
        return old & mask;
    }

    /**
     * Sleeps the vCPU thread until an event in {@code mask} is posted or until {@code deadlineNanos}
     * of {@code System.nanoTime()} passes (a spurious return is harmless: callers re-check).
     */
    public void awaitUntil(int mask, long deadlineNanos) {
        while ((pending & mask) == 0) {
            long wait = deadlineNanos - System.nanoTime();
            if (wait <= 0) return;
            LockSupport.parkNanos(this, wait);
            if (Thread.interrupted()) return;
        }
    }
}
