package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.Rflags;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.trap.CrashReport;
import dev.jkvm.klib.kernel.trap.InterruptCounts;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.kernel.trap.TrapFrame;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.Syscalls;
import dev.jkvm.klib.kernel.proc.Watchdog;
import dev.jkvm.klib.kernel.proc.UserFaults;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The one compiled entry of every interrupt and exception (called by the stubs with the
 * TrapFrame): exceptions end in a crash report, except an NMI during a panic, which stops the
 * CPU; the APIC vectors go to their handlers and get their EOI here. It sits at the top, next to
 * Kernel.main, because it dispatches into every layer (smp's IPI handlers, the scheduler, system
 * calls, user faults); what it counts is trap.InterruptCounts, readable from below.
 */
public final class Traps {
    private Traps() {
    }

    private static boolean faultPathReported;

    public static void handle(long frame) {
        long marker = Memory.load64(frame + TrapFrame.VECTOR);
        if (marker == Vectors.SYSTEM_CALL) {
            systemCall(frame);
            return;
        }
        int vector = (int) marker & 0xFF;
        InterruptCounts.noteInterrupt();
        if (vector == Vectors.PAGE_FAULT && UserFaults.fromUser(frame)
                && Memory.load64(frame + TrapFrame.RIP) == KernelLayout.get(KernelLayout.SYSCALL_ENTRY)) {
            // SYSCALL that reached IA32_LSTAR still at CPL 3 (what a nested paravirtual KVM,
            // kvm_pvm, does: see proc.Syscalls): the fetch of the supervisor-only entry faulted.
            // SYSCALL had already saved the return RIP in RCX and RFLAGS in R11, so the call is
            // served all the same.
            Memory.store64(frame + TrapFrame.RIP, Memory.load64(frame + TrapFrame.RCX));
            Memory.store64(frame + TrapFrame.RFLAGS, Memory.load64(frame + TrapFrame.R11));
            InterruptCounts.noteSystemCallByFault();
            if (!faultPathReported) {
                faultPathReported = true;
                Console.print("syscall: SYSCALL reached its entry at CPL 3 on this host; served from the page fault\n");
            }
            systemCall(frame);
            return;
        }
        if (vector < 32) {
            if (vector == Vectors.NMI && Panic.inProgress()) {
                Panic.stopThisCpu(frame);
            }
            if (UserFaults.fromUser(frame) && KernelScheduler.isRunning()) {
                UserFaults.kill(frame, vector);
            }
            CrashReport.exception(frame, vector);
            return;
        }
        if (vector == Vectors.SPURIOUS) {
            InterruptCounts.noteSpurious();
            return;
        }
        int ipiReason = vector >= Vectors.MAILBOX_FIRST && vector < Vectors.MAILBOX_FIRST + IpiReason.KINDS
                ? 1 << (vector - Vectors.MAILBOX_FIRST) : 0;
        if (ipiReason != 0) {
            int reasons = IpiHandlers.mailbox(ipiReason);
            if ((reasons & IpiReason.RESCHEDULE) != 0 && KernelScheduler.isRunning()) {
                KernelScheduler.onRescheduleIpi(PerCpuArea.cpuIndex());
            }
        } else if (vector == Vectors.WAKE) {
            // Only ends a HLT (ApStartup's wait for the release); the EOI below is all it needs.
        } else if (vector == Vectors.TIMER) {
            if (!KernelScheduler.isRunning()) {
                IpiHandlers.timer();
            }
        } else {
            Console.print("unexpected interrupt vector ");
            Log.dec(vector);
            Console.print("\n");
        }
        Lapic.eoi();
        if (vector == Vectors.TIMER && KernelScheduler.isRunning() && UserFaults.fromUser(frame)) {
            Watchdog.check(frame);
        }
        if ((vector == Vectors.TIMER || ipiReason != 0) && KernelScheduler.isRunning()) {
            KernelScheduler.afterInterrupt(vector == Vectors.TIMER);
        }
    }

    /**
     * A system call: rax = number, rdi, rsi, rdx = arguments (user.SyscallNumbers), result in
     * rax. The user RFLAGS come back with IF set and IOPL 0 whatever R11 held, so a forged value
     * cannot give user code port access or stop its interrupts.
     */
    private static void systemCall(long frame) {
        long rflags = Memory.load64(frame + TrapFrame.RFLAGS);
        Memory.store64(frame + TrapFrame.RFLAGS, (rflags & Rflags.USER_OWNED) | Rflags.IF | Rflags.RESERVED_ONE);
        Memory.store64(frame + TrapFrame.RAX, Syscalls.dispatch(Memory.load64(frame + TrapFrame.RAX),
                Memory.load64(frame + TrapFrame.RDI), Memory.load64(frame + TrapFrame.RSI),
                Memory.load64(frame + TrapFrame.RDX)));
    }
}
