package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Runs a function (CallFunctionDispatch id and argument) on other CPUs and waits until every
 * one of them has run it.
 *
 * Each CPU owns one request slot, reused only after its previous call completed, so any number
 * of CPUs may initiate calls at once. The initiator fills its slot, sets its own bit in each
 * target's incoming CpuMask and posts IpiReason.CALL_FUNCTION; a target swaps each incoming word
 * with zero, runs the request of every initiator whose bit it got and decrements that request's
 * remaining count. While it waits, the initiator serves call-function and TLB shootdown requests
 * addressed to itself, so CPUs waiting for each other with interrupts disabled do not deadlock.
 * A dispatched function must not start a call itself (its CPU's slot may be in use).
 *
 * Layout (bytesFor(cpuCount) bytes, 64-byte aligned):
 * <pre>
 *   +0  int  cpuCount
 *   +8  long mailbox      IpiMailbox address
 *   +16 long tlb          TlbShootdown address served while waiting, or 0
 *   +64 + cpu * STRIDE    request of initiator cpu:
 *        +0  int  functionId
 *        +4  int  remaining   targets that have not finished yet
 *        +8  long argument
 *        +64 CpuMask incoming  initiators with a request for this cpu (CpuMask.SIZE bytes)
 * </pre>
 * Ordering (Intel SDM Vol. 3A 9.2.2): the initiator's stores to its slot precede the locked
 * update of the incoming mask; the target's locked swap precedes its loads of the slot; the
 * target's locked decrement follows everything the function did, so the initiator sees it all.
 */
public final class CallFunction {
    private CallFunction() {
    }

    public static final int CPU_COUNT = 0;
    public static final int MAILBOX = 8;
    public static final int TLB = 16;
    public static final int HEADER = 64;
    public static final int STRIDE = 64 + CpuMask.SIZE;
    public static final int FUNCTION_ID = 0;
    public static final int REMAINING = 4;
    public static final int ARGUMENT = 8;
    public static final int INCOMING = 64;

    public static long bytesFor(int cpuCount) {
        return HEADER + (long) cpuCount * STRIDE;
    }

    /** tlb: the TlbShootdown area whose requests a waiting initiator serves too (0: none). */
    public static void init(long calls, int cpuCount, long mailbox, long tlb) {
        Memory.store32(calls + CPU_COUNT, cpuCount);
        Memory.store64(calls + MAILBOX, mailbox);
        Memory.store64(calls + TLB, tlb);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long slot = slot(calls, cpu);
            Memory.store32(slot + FUNCTION_ID, 0);
            Memory.store32(slot + REMAINING, 0);
            Memory.store64(slot + ARGUMENT, 0L);
            CpuMask.clearAll(slot + INCOMING);
        }
    }

    /** Runs the function on the target CPU (directly when it is the caller) and waits for it. */
    public static void callSingle(long calls, int selfCpu, int targetCpu, int functionId, long argument) {
        if (targetCpu == selfCpu) {
            CallFunctionDispatch.run(functionId, argument, selfCpu);
            return;
        }
        long slot = fill(calls, selfCpu, functionId, argument, 1);
        deliver(calls, selfCpu, targetCpu);
        waitForTargets(calls, selfCpu, slot);
    }

    /**
     * Runs the function on every CPU of the mask below cpuCount (the caller too, directly, when
     * it is in the mask) and waits until all have finished. The mask must not change during the call.
     */
    public static void callMany(long calls, int selfCpu, long cpuMask, int functionId, long argument) {
        int cpuCount = Memory.load32(calls + CPU_COUNT);
        int targets = 0;
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                targets++;
            }
        }
        long slot = fill(calls, selfCpu, functionId, argument, targets);
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                deliver(calls, selfCpu, cpu);
            }
        }
        if (selfCpu < cpuCount && CpuMask.contains(cpuMask, selfCpu)) {
            CallFunctionDispatch.run(functionId, argument, selfCpu);
        }
        waitForTargets(calls, selfCpu, slot);
    }

    /** For the IPI handler: runs every request addressed to this CPU; returns how many ran. */
    public static int runIncoming(long calls, int cpu) {
        long incoming = slot(calls, cpu) + INCOMING;
        int ran = 0;
        for (int w = 0; w < CpuMask.WORDS; w++) {
            long bits = Atomic.exchange64Acquire(incoming + w * 8L, 0L);
            while (bits != 0) {
                int initiator = w * 64 + CpuMask.lowestBit(bits);
                bits &= bits - 1;
                long request = slot(calls, initiator);
                CallFunctionDispatch.run(Memory.load32(request + FUNCTION_ID), Memory.load64(request + ARGUMENT), cpu);
                Atomic.fetchAdd32Release(request + REMAINING, -1);
                ran++;
            }
        }
        return ran;
    }

    private static long fill(long calls, int selfCpu, int functionId, long argument, int targets) {
        long slot = slot(calls, selfCpu);
        Memory.store32(slot + FUNCTION_ID, functionId);
        Memory.store64(slot + ARGUMENT, argument);
        Atomic.storeVolatile32(slot + REMAINING, targets);
        return slot;
    }

    private static void deliver(long calls, int selfCpu, int targetCpu) {
        CpuMask.set(slot(calls, targetCpu) + INCOMING, selfCpu);
        IpiMailbox.post(Memory.load64(calls + MAILBOX), targetCpu, IpiReason.CALL_FUNCTION);
    }

    private static void waitForTargets(long calls, int selfCpu, long slot) {
        long tlb = Memory.load64(calls + TLB);
        while (Atomic.loadVolatile32(slot + REMAINING) != 0) {
            runIncoming(calls, selfCpu);
            if (tlb != 0) {
                TlbShootdown.runIncoming(tlb, selfCpu);
            }
            Cpu.pause();
        }
    }

    private static long slot(long calls, int cpu) {
        return calls + HEADER + (long) cpu * STRIDE;
    }
}
