package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.kernel.trap.CrashReport;
import dev.jkvm.klib.kernel.trap.SourceLines;
import dev.jkvm.klib.kernel.trap.Symbols;
import dev.jkvm.klib.kernel.trap.TrapFrame;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * An exception raised by ring-3 code ends that task, not the kernel. The report is one raw line
 * (task, CPU, vector, RIP, error code and, for a page fault, CR2), then the fault the way a Java
 * stack trace gives it: "Exception in task INDEX on cpu N: java.lang.ArithmeticException: / by
 * zero" and one "\tat pkg.Class.method(File.java:LINE)" per frame, from the faulting one out
 * (trap.SourceLines; the user stack is walked along the frame pointers compiled code keeps). A
 * workload task's fault is also recorded for the run's summary (proc.WorkloadRun). The task exits
 * with KILLED_BASE - vector and the CPU schedules on.
 */
public final class UserFaults {
    private UserFaults() {
    }

    public static final long KILLED_BASE = -1000;

    /** What killed a task besides a plain vector (0-31): the compiled checks, the watchdog. */
    public static final int KIND_DIVIDE_BY_ZERO = 256;
    public static final int KIND_ARRAY_INDEX = 257;
    public static final int KIND_WATCHDOG = 258;
    /** The vector a watchdog kill exits with (KILLED_BASE - it): none of the CPU's. */
    public static final int WATCHDOG_VECTOR = 255;

    private static final int MAX_FRAMES = 32;
    /** CR4.SMAP (Intel SDM Vol. 3A 2.5): when set, reading user memory needs RFLAGS.AC. */
    private static final long CR4_SMAP = 1L << 21;
    /** Page-fault error code bits (Intel SDM Vol. 3A 4.7): P, W/R, I/D. */
    private static final long PF_PRESENT = 1;
    private static final long PF_WRITE = 2;
    private static final long PF_FETCH = 16;

    /** Whether the frame was pushed by an exception in user mode (CS RPL 3). */
    public static boolean fromUser(long frame) {
        return (Memory.load64(frame + TrapFrame.CS) & 3) == 3;
    }

    /** Whether this task runs the image's workload (its argument is then the task index). */
    public static boolean isWorkload(long task) {
        return Memory.load64(task + Task.ENTRY) == UserSpace.entry(UserPrograms.WORKLOAD);
    }

    public static void kill(long frame, int vector) {
        long rip = Memory.load64(frame + TrapFrame.RIP);
        int kind = vector;
        long detailA = Memory.load64(frame + TrapFrame.ERROR_CODE);
        long detailB = 0;
        long where = rip;
        boolean smap = (Cpu.readCr4() & CR4_SMAP) != 0;
        if (vector == Vectors.PAGE_FAULT) {
            detailB = detailA;
            detailA = Cpu.readCr2();
        }
        if (vector == Vectors.INVALID_OPCODE && rip != 0) {
            long rsp = Memory.load64(frame + TrapFrame.RSP);
            // A failed check called its routine (a UD2): the caller's return address is on top.
            if (rip == KernelLayout.get(KernelLayout.USER_DIVIDE_BY_ZERO) && onUserStack(rsp)) {
                kind = KIND_DIVIDE_BY_ZERO;
                where = userLoad(rsp, smap) - 1;
            } else if (rip == KernelLayout.get(KernelLayout.USER_ARRAY_INDEX) && onUserStack(rsp)) {
                kind = KIND_ARRAY_INDEX;
                detailA = (int) Memory.load64(frame + TrapFrame.RSI);
                detailB = (int) Memory.load64(frame + TrapFrame.RDX);
                where = userLoad(rsp, smap) - 1;
            }
        }
        end(frame, vector, kind, detailA, detailB, where);
    }

    /** The watchdog's kill of the current task, interrupted in user mode at frame. */
    public static void killByWatchdog(long frame, long limitMs) {
        end(frame, WATCHDOG_VECTOR, KIND_WATCHDOG, limitMs, 0, Memory.load64(frame + TrapFrame.RIP));
    }

    private static void end(long frame, int vector, int kind, long detailA, long detailB, long where) {
        long task = KernelScheduler.currentTask();
        boolean workload = isWorkload(task);
        long index = Memory.load64(task + Task.ARGUMENT);
        // Several CPUs may kill tasks at once: one whole report each.
        boolean interrupts = Log.beginLine();
        Console.print("user fault: task ");
        Log.hex(Task.id(task));
        Console.print(" killed on cpu ");
        Log.dec(KernelScheduler.currentCpu());
        Console.print(": vector ");
        Log.dec(vector);
        Console.print(", rip ");
        Log.hex(Memory.load64(frame + TrapFrame.RIP));
        Symbols.print(Memory.load64(frame + TrapFrame.RIP));
        Console.print(", error code ");
        Log.hex(Memory.load64(frame + TrapFrame.ERROR_CODE));
        if (vector == Vectors.PAGE_FAULT) {
            Console.print(", cr2 ");
            Log.hex(detailA);
        }
        Console.print("\nException in task ");
        if (workload) {
            Log.dec(index);
        } else {
            Log.hex(Task.id(task));
        }
        Console.print(" on cpu ");
        Log.dec(KernelScheduler.currentCpu());
        Console.print(": ");
        describe(kind, detailA, detailB, true);
        Console.print("\n");
        long topRow = SourceLines.find(where);
        printFrames(task, topRow, Memory.load64(frame + TrapFrame.RBP), where);
        Log.endLine(interrupts);
        if (workload) {
            WorkloadRun.recordFailure(index, kind, detailA, detailB, topRow);
        }
        TaskExit.exitCurrent(KernelScheduler.sched(), KILLED_BASE - vector);
    }

    /** "\tat Class.method(File.java:N)" for the faulting frame and each caller along the rbp chain. */
    private static void printFrames(long task, long topRow, long rbp, long where) {
        if (topRow == 0) {
            Console.print("\tat ");
            Log.hex(where);
            Console.print(" (not compiled Java)\n");
            return;
        }
        Console.print("\tat ");
        SourceLines.print(topRow);
        Console.print("\n");
        boolean smap = (Cpu.readCr4() & CR4_SMAP) != 0;
        long top = Memory.load64(task + Task.USER_STACK);
        for (int depth = 1; depth < MAX_FRAMES; depth++) {
            // Only frames inside this task's user stack are followed: a corrupt rbp ends the walk.
            if (rbp < top - UserSpace.USER_STACK_SIZE || rbp + 16 > top || (rbp & 7) != 0) {
                return;
            }
            long returnAddress = userLoad(rbp + 8, smap);
            long row = SourceLines.find(returnAddress - 1);
            if (row == 0) {
                return;
            }
            Console.print("\tat ");
            SourceLines.print(row);
            Console.print("\n");
            rbp = userLoad(rbp, smap);
        }
    }

    /**
     * What killed a task, Java's way where Java has a name for it; qualified adds "java.lang.".
     * detailA, detailB: CR2 and error code (page fault), index and length (array index), the
     * limit in ms (watchdog), the error code (other vectors).
     */
    public static void describe(int kind, long detailA, long detailB, boolean qualified) {
        if (kind == KIND_DIVIDE_BY_ZERO || kind == Vectors.DIVIDE_ERROR) {
            if (qualified) {
                Console.print("java.lang.");
            }
            Console.print("ArithmeticException: / by zero");
        } else if (kind == KIND_ARRAY_INDEX) {
            if (qualified) {
                Console.print("java.lang.");
            }
            Console.print("ArrayIndexOutOfBoundsException: Index ");
            Log.dec(detailA);
            Console.print(" out of bounds for length ");
            Log.dec(detailB);
        } else if (kind == KIND_WATCHDOG) {
            Console.print("watchdog: still running after ");
            Log.dec(detailA);
            Console.print(" ms");
        } else if (kind == Vectors.PAGE_FAULT) {
            Console.print("page fault: ");
            if ((detailB & PF_FETCH) != 0) {
                Console.print("instruction fetch");
            } else if ((detailB & PF_WRITE) != 0) {
                Console.print("write");
            } else {
                Console.print("read");
            }
            Console.print(" at address ");
            Log.hex(detailA);
            if ((detailB & PF_PRESENT) != 0) {
                Console.print(" (protection violation)");
            } else {
                Console.print(" (page not present)");
            }
        } else {
            CrashReport.printName(kind);
            Console.print(" (vector ");
            Log.dec(kind);
            Console.print(", error code ");
            Log.hex(detailA);
            Console.print(")");
        }
    }

    private static boolean onUserStack(long rsp) {
        long top = Memory.load64(KernelScheduler.currentTask() + Task.USER_STACK);
        return rsp >= top - UserSpace.USER_STACK_SIZE && rsp + 8 <= top && (rsp & 7) == 0;
    }

    private static long userLoad(long address, boolean smap) {
        return Asm.call("kernel_user_load64", address, smap ? 1 : 0);
    }
}
