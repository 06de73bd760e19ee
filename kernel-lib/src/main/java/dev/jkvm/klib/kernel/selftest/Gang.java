package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Runs one self-test job on every online CPU at the same time, the boot CPU included, so that
 * the CPUs really contend. The APs run it inside their call-function handler: the boot CPU posts
 * one request from its CallFunction slot (function SelfTestSuite.GANG_JOB) to every AP itself,
 * because CallFunction.callMany would keep that slot busy while the boot CPU wants to make calls
 * of its own during the job. Once every AP has read the request, the slot is free for the boot
 * CPU's calls; APs that finish spin, serving calls, until the boot CPU has finished too and
 * re-armed the slot's remaining count for their completions.
 *
 * Jobs may make CallFunction calls (they are served while waiting) but no TLB shootdowns.
 */
public final class Gang {
    private Gang() {
    }

    private static long state;
    private static final int STARTED = 0;
    private static final int FINISHED = 4;
    private static final int RELEASED = 8;
    private static final int JOB = 12;
    private static final int ARGUMENT = 16;
    private static final int MEMBERS = 24;

    public static void init() {
        state = BootAllocator.allocate(64, 64);
    }

    public static long argument() {
        return Memory.load64(state + ARGUMENT);
    }

    /** From the boot CPU: runs job(argument) on every online CPU and returns when all finished. */
    public static void run(int job, long argument) {
        long calls = SmpState.calls();
        long online = CpuRecord.onlineMask();
        int aps = CpuMask.count(online) - 1;
        Memory.store32(state + STARTED, 0);
        Memory.store32(state + FINISHED, 0);
        Memory.store32(state + JOB, job);
        Memory.store64(state + ARGUMENT, argument);
        Memory.store32(state + MEMBERS, aps);
        Atomic.storeVolatile32(state + RELEASED, 0);
        long slot = calls + CallFunction.HEADER;
        if (aps > 0) {
            Memory.store32(slot + CallFunction.FUNCTION_ID, SelfTestSuite.GANG_JOB);
            Memory.store64(slot + CallFunction.ARGUMENT, 0L);
            Atomic.storeVolatile32(slot + CallFunction.REMAINING, aps);
            for (int cpu = CpuMask.next(online, 1); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
                CpuMask.set(calls + CallFunction.HEADER + (long) cpu * CallFunction.STRIDE + CallFunction.INCOMING, 0);
                IpiMailbox.post(SmpState.mailbox(), cpu, IpiReason.CALL_FUNCTION);
            }
            waitFor(state + STARTED, aps, 0);
        }
        SelfTestSuite.runJob(job, 0);
        Atomic.fetchAdd32(state + FINISHED, 1);
        waitFor(state + FINISHED, aps + 1, 0);
        if (aps > 0) {
            Atomic.storeVolatile32(slot + CallFunction.REMAINING, aps);
            Atomic.storeVolatile32(state + RELEASED, 1);
            while (Atomic.loadVolatile32(slot + CallFunction.REMAINING) != 0) {
                serve(0);
            }
        }
    }

    /** The AP side, from the call-function handler. */
    public static void member(int cpu) {
        int job = Memory.load32(state + JOB);
        Atomic.fetchAdd32(state + STARTED, 1);
        // Nobody sends before everybody has started: a request that arrived together with the
        // job's own would sit in this handler's batch, unserved until the job returned.
        waitFor(state + STARTED, Memory.load32(state + MEMBERS), cpu);
        SelfTestSuite.runJob(job, cpu);
        Atomic.fetchAdd32(state + FINISHED, 1);
        while (Atomic.loadVolatile32(state + RELEASED) == 0) {
            serve(cpu);
        }
    }

    /** Spins until the counter reaches the value, serving this CPU's incoming calls. */
    public static void waitFor(long counter, int value, int cpu) {
        while (Atomic.loadVolatile32(counter) != value) {
            serve(cpu);
        }
    }

    public static void serve(int cpu) {
        CallFunction.runIncoming(SmpState.calls(), cpu);
        TlbShootdown.runIncoming(SmpState.tlb(), cpu);
        Cpu.pause();
    }
}
