package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.smp.IdleCall;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Runs one self-test job on every online CPU at the same time, the boot CPU included, so that
 * the CPUs really contend. The APs run it from their idle loops (IdleCall: interrupts enabled),
 * each woken by a RESCHEDULE IPI; they wait halted until all have arrived and the boot CPU wakes
 * them together (GO), then spin until all are awake (AWAKE) and start; an AP that has finished
 * goes back to its idle loop and halts there, serving calls addressed to it from its interrupt
 * handlers.
 *
 * Halting matters on a host with fewer cores than vCPUs (QEMU TCG runs one host thread per vCPU:
 * 255 of them on 2 cores): a CPU that spins keeps its thread runnable, and every PAUSE there
 * returns to QEMU's main loop, so CPUs still at work, or the next holder a FIFO lock is handed
 * to, wait for host time behind the spinners. A halted vCPU's thread sleeps until its IPI.
 * (Until session 7 the APs ran jobs inside the call-function handler with interrupts off and
 * spun there until the boot CPU released them: at 255 CPUs a job that does nothing took 4 s.)
 *
 * Jobs may make CallFunction calls (served while waiting, and by the halted APs' handlers) but no
 * TLB shootdowns.
 */
public final class Gang {
    private Gang() {
    }

    private static long state;
    private static final int STARTED = 0;
    private static final int GO = 4;
    private static final int AWAKE = 8;
    private static final int MEMBERS = 24;
    private static final int JOB = 12;
    private static final int ARGUMENT = 16;

    public static void init() {
        state = BootAllocator.allocate(64, 64);
    }

    public static long argument() {
        return Memory.load64(state + ARGUMENT);
    }

    /** From the boot CPU: runs job(argument) on every online CPU and returns when all finished. */
    public static void run(int job, long argument) {
        long online = CpuRecord.onlineMask();
        Memory.store32(state + STARTED, 0);
        Memory.store32(state + JOB, job);
        Memory.store64(state + ARGUMENT, argument);
        Atomic.storeVolatile32(state + GO, 0);
        Memory.store32(state + AWAKE, 0);
        Atomic.storeVolatile32(state + MEMBERS, CpuMask.count(online));
        int asked = IdleCall.start(SelfTestSuite.GANG_JOB, 0, online, 0);
        waitFor(state + STARTED, asked, 0);
        // GO before the wake-ups: an AP that checks it after its wake-up, or after the handler of
        // an earlier RESCHEDULE still pending (postMany then sends none), sees it set. With every
        // CPU online one broadcast PING wakes them all at once (the storm test resets the ping
        // counts before it counts); otherwise one RESCHEDULE each.
        Atomic.storeVolatile32(state + GO, 1);
        if (asked + 1 == CpuRecord.count()) {
            IpiMailbox.pingAllOthers(SmpState.mailbox(), 0);
        } else {
            IpiMailbox.postMany(SmpState.mailbox(), 0, online, IpiReason.RESCHEDULE);
        }
        Atomic.fetchAdd32(state + AWAKE, 1);
        waitFor(state + AWAKE, asked + 1, 0);
        SelfTestSuite.runJob(job, 0);
        while (IdleCall.finished() != asked) {
            serve(0);
        }
    }

    /** The AP side, from the idle loop (IdleCall). */
    public static void member(int cpu) {
        int job = Memory.load32(state + JOB);
        // Counted in, then halted until the boot CPU has seen every member arrive: nobody starts
        // the job before all are there to contend with it. Interrupts are off from the check to
        // the HLT (STI's one-instruction shadow covers it), so the wake-up is not slept through.
        Cpu.cli();
        Atomic.fetchAdd32(state + STARTED, 1);
        while (Atomic.loadVolatile32(state + GO) == 0) {
            Asm.call("kernel_wait_for_interrupt");
            Cpu.cli();
        }
        Cpu.sti();
        // Then each spins until all are awake, and starts the job as soon as it sees that: in the
        // order the host schedules their vCPUs, the order in which they can take their turns at a
        // FIFO lock without each hand-off waiting for a descheduled vCPU (issue 14, QEMU TCG).
        Atomic.fetchAdd32(state + AWAKE, 1);
        waitFor(state + AWAKE, Atomic.loadVolatile32(state + MEMBERS), cpu);
        SelfTestSuite.runJob(job, cpu);
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
