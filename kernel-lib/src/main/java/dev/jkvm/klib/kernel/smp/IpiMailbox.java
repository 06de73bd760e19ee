package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Per-CPU words of pending IPI reasons (IpiReason bits) behind one IPI vector.
 *
 * A sender ORs its reason into the target's word and sends an IPI only when the word was zero;
 * the target's handler atomically swaps the word with zero and acts on every bit it got. While
 * the word is non-zero an IPI is on its way or its handler has not swapped yet, and that swap
 * collects the new bit, so nothing is lost when the local APIC merges IPIs of one vector (it
 * latches at most one in IRR, Intel SDM Vol. 3A 11.8.4). A handler finding zero is harmless.
 *
 * Layout (bytesFor(cpuCount) bytes, 64-byte aligned; one cache line per CPU so that senders to
 * different CPUs do not contend):
 * <pre>
 *   +0  int cpuCount
 *   +4  int vector      the IDT vector of the mailbox IPI
 *   +64 + cpu * LINE    int pending    IpiReason bits
 * </pre>
 */
public final class IpiMailbox {
    private IpiMailbox() {
    }

    public static final int CPU_COUNT = 0;
    public static final int VECTOR = 4;
    public static final int HEADER = 64;
    public static final int LINE = 64;

    public static long bytesFor(int cpuCount) {
        return HEADER + (long) cpuCount * LINE;
    }

    public static void init(long mailbox, int cpuCount, int vector) {
        Memory.store32(mailbox + CPU_COUNT, cpuCount);
        Memory.store32(mailbox + VECTOR, vector);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            Memory.store32(pendingWord(mailbox, cpu), 0);
        }
    }

    public static int cpuCount(long mailbox) {
        return Memory.load32(mailbox + CPU_COUNT);
    }

    /**
     * Marks the reason pending on the target and interrupts it unless an IPI is already due;
     * returns the reasons that were pending before (0: this call sent the IPI).
     */
    public static int post(long mailbox, int targetCpu, int reason) {
        long word = pendingWord(mailbox, targetCpu);
        int old = Atomic.loadVolatile32(word);
        while (!Atomic.compareAndSet32Release(word, old, old | reason)) {
            old = Atomic.loadVolatile32(word);
        }
        if (old == 0) {
            IpiSend.send(targetCpu, Memory.load32(mailbox + VECTOR));
        }
        return old;
    }

    /** Posts the reason to every CPU of the mask (below cpuCount) except the sender itself. */
    public static void postMany(long mailbox, int selfCpu, long cpuMask, int reason) {
        int cpuCount = cpuCount(mailbox);
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                post(mailbox, cpu, reason);
            }
        }
    }

    /** For the IPI handler: takes and clears every reason pending on this CPU. */
    public static int take(long mailbox, int cpu) {
        return Atomic.exchange32Acquire(pendingWord(mailbox, cpu), 0);
    }

    /** Reasons pending on the CPU (a snapshot). */
    public static int pending(long mailbox, int cpu) {
        return Atomic.loadVolatile32(pendingWord(mailbox, cpu));
    }

    private static long pendingWord(long mailbox, int cpu) {
        return mailbox + HEADER + (long) cpu * LINE;
    }
}
