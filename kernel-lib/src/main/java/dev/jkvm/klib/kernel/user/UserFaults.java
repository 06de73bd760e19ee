package dev.jkvm.klib.kernel.user;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.kernel.task.KernelScheduler;
import dev.jkvm.klib.kernel.trap.TrapFrame;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * An exception raised by ring-3 code ends that task, not the kernel: one report line (task,
 * CPU, vector, RIP, error code and, for a page fault, CR2), then the task exits with
 * KILLED_BASE - vector and the CPU schedules on.
 */
public final class UserFaults {
    private UserFaults() {
    }

    public static final long KILLED_BASE = -1000;

    /** Whether the frame was pushed by an exception in user mode (CS RPL 3). */
    public static boolean fromUser(long frame) {
        return (Memory.load64(frame + TrapFrame.CS) & 3) == 3;
    }

    public static void kill(long frame, int vector) {
        long task = KernelScheduler.currentTask();
        // Several CPUs may kill tasks at once: one whole line each.
        boolean interrupts = Log.beginLine();
        Console.print("user fault: task ");
        Log.hex(Task.id(task));
        Console.print(" killed on cpu ");
        Log.dec(KernelScheduler.currentCpu());
        Console.print(": vector ");
        Log.dec(vector);
        Console.print(", rip ");
        Log.hex(Memory.load64(frame + TrapFrame.RIP));
        Console.print(", error code ");
        Log.hex(Memory.load64(frame + TrapFrame.ERROR_CODE));
        if (vector == Vectors.PAGE_FAULT) {
            Console.print(", cr2 ");
            Log.hex(Cpu.readCr2());
        }
        Console.print("\n");
        Log.endLine(interrupts);
        TaskExit.exitCurrent(KernelScheduler.sched(), KILLED_BASE - vector);
    }
}
