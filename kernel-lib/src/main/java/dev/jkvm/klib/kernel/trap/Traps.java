package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
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

    /** #UD (Intel SDM Vol. 3A 6.15): from the user system call gate it is a system call. */
    private static final int INVALID_OPCODE = 6;

    public static void handle(long frame) {
        int vector = (int) Memory.load64(frame + TrapFrame.VECTOR) & 0xFF;
        interrupts++;
        if (vector == INVALID_OPCODE && UserFaults.fromUser(frame)
                && Memory.load64(frame + TrapFrame.RIP) == KernelLayout.get(KernelLayout.USER_SYSCALL_GATE)) {
            Memory.store64(frame + TrapFrame.RIP, Memory.load64(frame + TrapFrame.RIP) + 2);
            Memory.store64(frame + TrapFrame.RAX, Syscalls.dispatch(Memory.load64(frame + TrapFrame.RAX),
                    Memory.load64(frame + TrapFrame.RDI), Memory.load64(frame + TrapFrame.RSI),
                    Memory.load64(frame + TrapFrame.RDX)));
            return;
        }
        if (vector < 32) {
            if (vector == 2 && Panic.inProgress()) {
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

    public static long interruptCount() {
        return interrupts;
    }

    public static int spuriousCount() {
        return spurious;
    }
}
