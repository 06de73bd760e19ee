package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Per-CPU words of pending IPI reasons (IpiReason bits), each reason with its own IDT vector:
 * reason bit i is sent on vector firstVector + i, so each kind of IPI has its own handler and
 * its own IRR bit.
 *
 * A sender ORs its reason into the target's word and sends that reason's IPI only when the bit
 * was clear; the handler of that vector atomically clears the bit and then acts. While the bit
 * is set an IPI of its vector is on its way or its handler has not cleared it yet, and that
 * clear covers every request made meanwhile, so nothing is lost when the local APIC merges IPIs
 * of one vector (it latches at most one in IRR, Intel SDM Vol. 3A 11.8.4). A handler finding its
 * bit clear is harmless. Requests that carry data (call-function, TLB shootdown) keep it in
 * their own per-CPU queues; the bit only says "look there".
 *
 * Layout (bytesFor(cpuCount) bytes, 64-byte aligned; one cache line per CPU so that senders to
 * different CPUs do not contend):
 * <pre>
 *   +0  int cpuCount
 *   +4  int firstVector the IDT vector of reason bit 0
 *   +64 + cpu * LINE    int pending    IpiReason bits
 *   +68 + cpu * LINE    int pings      PING requests not yet taken
 * </pre>
 */
public final class IpiMailbox {
    private IpiMailbox() {
    }

    public static final int CPU_COUNT = 0;
    public static final int FIRST_VECTOR = 4;
    public static final int HEADER = 64;
    public static final int LINE = 64;
    private static final int PINGS = 4;

    public static long bytesFor(int cpuCount) {
        return HEADER + (long) cpuCount * LINE;
    }

    public static void init(long mailbox, int cpuCount, int firstVector) {
        Memory.store32(mailbox + CPU_COUNT, cpuCount);
        Memory.store32(mailbox + FIRST_VECTOR, firstVector);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            Memory.store32(pendingWord(mailbox, cpu), 0);
            Memory.store32(pendingWord(mailbox, cpu) + PINGS, 0);
        }
    }

    public static int cpuCount(long mailbox) {
        return Memory.load32(mailbox + CPU_COUNT);
    }

    /** The vector of a single-bit reason. */
    public static int vectorOf(long mailbox, int reason) {
        return Memory.load32(mailbox + FIRST_VECTOR) + CpuMask.lowestBit(reason & 0xFFFFFFFFL);
    }

    /**
     * Marks the reasons pending on the target and sends the IPI of each one that was not already
     * pending; returns the reasons that were pending before.
     */
    public static int post(long mailbox, int targetCpu, int reasons) {
        long word = pendingWord(mailbox, targetCpu);
        int old = Atomic.loadVolatile32(word);
        while (!Atomic.compareAndSet32Release(word, old, old | reasons)) {
            old = Atomic.loadVolatile32(word);
        }
        int fresh = reasons & ~old;
        while (fresh != 0) {
            int reason = fresh & -fresh;
            IpiSend.send(targetCpu, vectorOf(mailbox, reason));
            fresh &= ~reason;
        }
        return old;
    }

    /**
     * Marks the reasons pending on the target without sending anything: the next post of them
     * sends no IPI either, exactly as if an IPI had been sent and lost on the way. Only for
     * test=lost-wakeup, which shows that such a loss is reported (proc.StallCheck).
     */
    public static void loseNextForTest(long mailbox, int targetCpu, int reasons) {
        long word = pendingWord(mailbox, targetCpu);
        int old = Atomic.loadVolatile32(word);
        while (!Atomic.compareAndSet32Release(word, old, old | reasons)) {
            old = Atomic.loadVolatile32(word);
        }
    }

    /** Posts the reasons to every CPU of the mask (below cpuCount) except the sender itself. */
    public static void postMany(long mailbox, int selfCpu, long cpuMask, int reasons) {
        int cpuCount = cpuCount(mailbox);
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                post(mailbox, cpu, reasons);
            }
        }
    }

    /**
     * Counts one PING for the target and sends a PING IPI every time, even when one is already
     * due: each call is one IPI on the wire, so the local APIC does merge some of them, and the
     * count is what proves that none of the requests was lost. The count is raised before the
     * bit is set, so a handler that clears the bit also sees the count (or a later handler does).
     */
    public static void ping(long mailbox, int targetCpu) {
        countPing(mailbox, targetCpu);
        IpiSend.send(targetCpu, vectorOf(mailbox, IpiReason.PING));
    }

    /**
     * ping to every CPU below cpuCount but the sender, with one broadcast IPI
     * (IpiSend.sendToAllOthers): only valid while every other CPU is online, since the broadcast
     * reaches all of them.
     */
    public static void pingAllOthers(long mailbox, int selfCpu) {
        int cpuCount = cpuCount(mailbox);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (cpu != selfCpu) {
                countPing(mailbox, cpu);
            }
        }
        IpiSend.sendToAllOthers(vectorOf(mailbox, IpiReason.PING));
    }

    private static void countPing(long mailbox, int targetCpu) {
        long word = pendingWord(mailbox, targetCpu);
        Atomic.fetchAdd32(word + PINGS, 1);
        int old = Atomic.loadVolatile32(word);
        while ((old & IpiReason.PING) == 0 && !Atomic.compareAndSet32Release(word, old, old | IpiReason.PING)) {
            old = Atomic.loadVolatile32(word);
        }
    }

    /** For the PING handler, after takeReasons returned PING: the pings counted since then. */
    public static int takePings(long mailbox, int cpu) {
        return Atomic.exchange32Acquire(pendingWord(mailbox, cpu) + PINGS, 0);
    }

    /** For a handler: clears the given reasons on this CPU and returns those that were pending. */
    public static int takeReasons(long mailbox, int cpu, int reasons) {
        long word = pendingWord(mailbox, cpu);
        int old = Atomic.loadVolatile32(word);
        while ((old & reasons) != 0 && !Atomic.compareAndSet32Acquire(word, old, old & ~reasons)) {
            old = Atomic.loadVolatile32(word);
        }
        return old & reasons;
    }

    /** Reasons pending on the CPU (a snapshot). */
    public static int pending(long mailbox, int cpu) {
        return Atomic.loadVolatile32(pendingWord(mailbox, cpu));
    }

    private static long pendingWord(long mailbox, int cpu) {
        return mailbox + HEADER + (long) cpu * LINE;
    }
}
