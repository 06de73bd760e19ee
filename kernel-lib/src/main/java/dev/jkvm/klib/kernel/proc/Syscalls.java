package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.user.SyscallNumbers;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.sched.BlockingSemaphore;
import dev.jkvm.klib.kernel.sched.Sleep;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel side of system calls. User code enters the kernel with SYSCALL from the user-mode
 * stub (build.UserSpaceBuild), rax = number and rdi, rsi, rdx = arguments. IA32_LSTAR points at
 * the kernel's entry (build.UserRoutines, MSRs in cpu.SystemCallMsrs), which switches to the
 * task's kernel stack (TSS.RSP0) and joins the interrupt path with a frame marked
 * trap.Vectors.SYSTEM_CALL; kernel.Traps calls dispatch and returns the result in rax; the way
 * back to ring 3 is the interrupt path's IRETQ. One case per SyscallNumbers value.
 *
 * On a nested paravirtual KVM (kvm_pvm) SYSCALL from ring 3 loads RIP from LSTAR and
 * saves RCX and R11 but leaves the CPU at CPL 3, so fetching the supervisor-only entry raises a
 * user-mode page fault (error code 0x15) with RIP = LSTAR; QEMU TCG and KVM on hardware switch to
 * CPL 0 as the SDM requires. kernel.Traps recognises that fault by its address
 * (KernelLayout.SYSCALL_ENTRY) and serves the system call from it, returning to RCX, so the same
 * image makes real SYSCALLs where the platform supports them and still works on kvm_pvm. (INT n
 * through a DPL-3 gate is no alternative: on kvm_pvm it raised #UD.)
 */
public final class Syscalls {
    private Syscalls() {
    }

    /** Longest console write accepted in one call. */
    public static final long MAX_WRITE = 4096;
    /** CR4.SMAP (Intel SDM Vol. 3A 2.5): when set, reading user memory needs STAC/CLAC. */
    private static final long CR4_SMAP = 1L << 21;

    public static long dispatch(long number, long a, long b, long c) {
        long sched = KernelScheduler.sched();
        if (number == SyscallNumbers.YIELD) {
            KernelScheduler.yield();
            return 0;
        }
        if (number == SyscallNumbers.SLEEP) {
            if (a < 0) {
                return -1;
            }
            Sleep.until(sched, Cpu.rdtsc() + a * KernelScheduler.tscPerMs());
            return 0;
        }
        if (number == SyscallNumbers.EXIT) {
            TaskExit.exitCurrent(sched, a);
            return 0;
        }
        if (number == SyscallNumbers.SEM_WAIT || number == SyscallNumbers.SEM_POST) {
            long semaphore = UserSpace.semaphore(a);
            if (semaphore == 0) {
                return -1;
            }
            if (number == SyscallNumbers.SEM_WAIT) {
                BlockingSemaphore.down(sched, semaphore);
            } else {
                BlockingSemaphore.post(sched, semaphore);
            }
            return 0;
        }
        if (number == SyscallNumbers.WRITE) {
            if (b > MAX_WRITE || !UserSpace.isUserRange(a, b)) {
                return -1;
            }
            // Ring-3 tasks on several CPUs write at once: each write goes out whole.
            boolean interrupts = Log.beginLine();
            Asm.call("kernel_user_print", a, b, (Cpu.readCr4() & CR4_SMAP) != 0 ? 1 : 0);
            Log.endLine(interrupts);
            return b;
        }
        if (number == SyscallNumbers.CPU_ID) {
            return KernelScheduler.currentCpu();
        }
        if (number == SyscallNumbers.TASK_ID) {
            return Task.id(KernelScheduler.currentTask());
        }
        if (number == SyscallNumbers.ARGUMENT) {
            return Memory.load64(KernelScheduler.currentTask() + Task.ARGUMENT);
        }
        if (number == SyscallNumbers.COUNT) {
            return Cpu.rdtsc();
        }
        return -1;
    }
}
