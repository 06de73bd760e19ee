package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.Rflags;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.task.KernelScheduler;
import dev.jkvm.klib.kernel.user.Syscalls;
import dev.jkvm.klib.kernel.user.UserFaults;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.PerCpu;

/**
 * The one compiled entry of every interrupt and exception (called by the stubs with the
 * TrapFrame): exceptions end in a crash report, except an NMI during a panic, which stops the
 * CPU; the APIC vectors go to their handlers and get their EOI here.
 */
public final class Traps {
    private Traps() {
    }

    /** Interrupts this CPU has handled (a @PerCpu field: each CPU counts its own). */
    @PerCpu
    static long interrupts;
    @PerCpu
    static int spurious;


    /** System calls that arrived as a user-mode page fault on the SYSCALL entry, on this CPU. */
    @PerCpu
    static long systemCallsByFault;
    private static boolean faultPathReported;

    public static void handle(long frame) {
        long marker = Memory.load64(frame + TrapFrame.VECTOR);
        if (marker == Vectors.SYSTEM_CALL) {
            systemCall(frame);
            return;
        }
        int vector = (int) marker & 0xFF;
        interrupts++;
        if (vector == Vectors.PAGE_FAULT && UserFaults.fromUser(frame)
                && Memory.load64(frame + TrapFrame.RIP) == KernelLayout.get(KernelLayout.SYSCALL_ENTRY)) {
            // SYSCALL that reached IA32_LSTAR still at CPL 3 (this nested KVM's behaviour, see
            // user.Syscalls): the fetch of the supervisor-only entry faulted. SYSCALL had already
            // saved the return RIP in RCX and RFLAGS in R11, so the call is served all the same.
            Memory.store64(frame + TrapFrame.RIP, Memory.load64(frame + TrapFrame.RCX));
            Memory.store64(frame + TrapFrame.RFLAGS, Memory.load64(frame + TrapFrame.R11));
            systemCallsByFault++;
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
            spurious++;
            return;
        }
        int ipiReason = vector >= Vectors.MAILBOX_FIRST && vector < Vectors.MAILBOX_FIRST + IpiReason.KINDS
                ? 1 << (vector - Vectors.MAILBOX_FIRST) : 0;
        if (ipiReason != 0) {
            IpiHandlers.mailbox(ipiReason);
        } else if (vector == Vectors.WAKE) {
            // Only ends a HLT (ApStartup's wait for the release); the EOI below is all it needs.
            spurious += 0;
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

    public static long interruptCount() {
        return interrupts;
    }

    public static int spuriousCount() {
        return spurious;
    }
}
