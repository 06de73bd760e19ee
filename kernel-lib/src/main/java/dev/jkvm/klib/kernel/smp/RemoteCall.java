package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * A call of one function on one other CPU that gives up: CallFunction's request protocol (the
 * caller's slot, its bit in the target's incoming mask, IpiReason.CALL_FUNCTION), but the wait is
 * bounded by a TSC deadline and the outcome is a result code instead of a hang:
 * <ul>
 *   <li>OK: the target ran the function and finished it;</li>
 *   <li>OFFLINE: the target is not in the online mask (or not a CPU at all): nothing was sent;</li>
 *   <li>TIMEOUT: the target did not take the request in time. The caller withdraws its bit from
 *       the target's incoming mask; the atomic clear decides the race with the target's atomic
 *       swap, so a withdrawn request is never run later and the slot is free again.</li>
 *   <li>LATE: the target took the request but had not finished it when the deadline passed,
 *       nor by a second deadline as long as the first. Its late completion will still decrement
 *       the caller's slot, so the caller must not start another call until remaining(...) is 0.</li>
 * </ul>
 * While waiting, the caller serves call-function and TLB shootdown requests addressed to itself,
 * as CallFunction does.
 */
public final class RemoteCall {
    private RemoteCall() {
    }

    public static final int OK = 0;
    public static final int OFFLINE = 1;
    public static final int TIMEOUT = 2;
    public static final int LATE = 3;

    public static int call(long calls, long onlineMask, int selfCpu, int targetCpu, int functionId, long argument,
            long timeoutTsc) {
        int cpuCount = Memory.load32(calls + CallFunction.CPU_COUNT);
        if (targetCpu < 0 || targetCpu >= cpuCount || !CpuMask.contains(onlineMask, targetCpu)) {
            return OFFLINE;
        }
        if (targetCpu == selfCpu) {
            CallFunctionDispatch.run(functionId, argument, selfCpu);
            return OK;
        }
        long slot = slot(calls, selfCpu);
        Memory.store32(slot + CallFunction.FUNCTION_ID, functionId);
        Memory.store64(slot + CallFunction.ARGUMENT, argument);
        Atomic.storeVolatile32(slot + CallFunction.REMAINING, 1);
        long incoming = slot(calls, targetCpu) + CallFunction.INCOMING;
        CpuMask.set(incoming, selfCpu);
        IpiMailbox.post(Memory.load64(calls + CallFunction.MAILBOX), targetCpu, IpiReason.CALL_FUNCTION);
        if (waitUntil(calls, selfCpu, slot, Cpu.rdtsc() + timeoutTsc)) {
            return OK;
        }
        if (CpuMask.clear(incoming, selfCpu)) {
            Atomic.storeVolatile32(slot + CallFunction.REMAINING, 0);
            return TIMEOUT;
        }
        if (waitUntil(calls, selfCpu, slot, Cpu.rdtsc() + timeoutTsc)) {
            return OK;
        }
        return LATE;
    }

    /** Targets that have not finished the caller's last request (0: its slot is free). */
    public static int remaining(long calls, int selfCpu) {
        return Atomic.loadVolatile32(slot(calls, selfCpu) + CallFunction.REMAINING);
    }

    private static boolean waitUntil(long calls, int selfCpu, long slot, long deadline) {
        long tlb = Memory.load64(calls + CallFunction.TLB);
        while (Atomic.loadVolatile32(slot + CallFunction.REMAINING) != 0) {
            if (Cpu.rdtsc() - deadline >= 0) {
                return Atomic.loadVolatile32(slot + CallFunction.REMAINING) == 0;
            }
            CallFunction.runIncoming(calls, selfCpu);
            if (tlb != 0) {
                TlbShootdown.runIncoming(tlb, selfCpu);
            }
            Cpu.pause();
        }
        return true;
    }

    private static long slot(long calls, int cpu) {
        return calls + CallFunction.HEADER + (long) cpu * CallFunction.STRIDE;
    }
}
