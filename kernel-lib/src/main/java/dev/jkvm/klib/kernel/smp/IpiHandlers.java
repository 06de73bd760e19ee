package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * Interrupt-time work of the mailbox IPIs and the local timer. The mailbox handler lets
 * MailboxHandler serve TLB shootdowns and function calls and acts on the rest: RESCHEDULE and
 * TIMER are counted (the self-test checks the counts; once the scheduler runs, kernel.Traps
 * passes RESCHEDULE on to it), PING requests are added up, PANIC stops the CPU. The boot CPU's
 * timer tick forwards a TIMER reason to every other online CPU.
 */
public final class IpiHandlers {
    private IpiHandlers() {
    }

    private static int bspTickCount;
    /**
     * Dynamic per-CPU variables (PerCpuVariables) registered at boot: PING requests this CPU
     * took, and the interrupts that brought them. Only the owning CPU adds to them, with one
     * GS-relative add each, so they need no locked instruction.
     */
    private static long pingsTaken;
    private static long pingInterrupts;

    /** At boot, once the per-CPU areas exist and before the APs start. */
    public static void registerCounters() {
        pingsTaken = PerCpuVariables.register(8, 8);
        pingInterrupts = PerCpuVariables.register(8, 8);
    }

    public static long pingsTaken(int cpu) {
        return Memory.load64(PerCpuVariables.of(cpu, pingsTaken));
    }

    public static long pingInterrupts(int cpu) {
        return Memory.load64(PerCpuVariables.of(cpu, pingInterrupts));
    }

    /** Zeroes the CPU's ping counters (while nobody pings it). */
    public static void resetPingCounters(int cpu) {
        Memory.store64(PerCpuVariables.of(cpu, pingsTaken), 0L);
        Memory.store64(PerCpuVariables.of(cpu, pingInterrupts), 0L);
    }

    /**
     * The handler of the mailbox vector that stands for reason (one IpiReason bit); returns the
     * reasons it found, so that the caller (kernel.Traps) can hand RESCHEDULE to the scheduler,
     * which sits above smp.
     */
    public static int mailbox(int reason) {
        int cpu = PerCpuArea.cpuIndex();
        int reasons = MailboxHandler.handle(SmpState.mailbox(), SmpState.calls(), SmpState.tlb(), cpu, reason);
        if ((reasons & IpiReason.RESCHEDULE) != 0) {
            SmpState.increment(cpu, SmpState.RESCHEDULES);
        }
        if ((reasons & IpiReason.PING) != 0) {
            PerCpuVariables.add(pingsTaken, IpiMailbox.takePings(SmpState.mailbox(), cpu));
            PerCpuVariables.add(pingInterrupts, 1);
        }
        if ((reasons & IpiReason.TIMER) != 0) {
            SmpState.increment(cpu, SmpState.TIMER_IPIS);
        }
        if ((reasons & IpiReason.PANIC) != 0) {
            Asm.call("kernel_halt_forever");
        }
        return reasons;
    }

    public static void timer() {
        int cpu = PerCpuArea.cpuIndex();
        bspTickCount++;
        IpiMailbox.postMany(SmpState.mailbox(), cpu, CpuRecord.onlineMask(), IpiReason.TIMER);
        if (Panic.inProgress()) {
            Asm.call("kernel_halt_forever");
        }
    }

    public static int bspTicks() {
        return bspTickCount;
    }
}
