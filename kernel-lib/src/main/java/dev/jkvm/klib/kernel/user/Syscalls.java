package dev.jkvm.klib.kernel.user;

import dev.jkvm.klib.kernel.sched.Semaphore;
import dev.jkvm.klib.kernel.sched.Sleep;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.kernel.task.KernelScheduler;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel side of system calls. User code enters the kernel through a gate: the UD2 in the
 * user-mode stub (build.UserSpaceBuild) with rax = number and rdi, rsi, rdx = arguments. The
 * #UD arrives through the IDT on the task's kernel stack (TSS.RSP0) with interrupts off;
 * trap.Traps recognises the gate by its address (KernelLayout.USER_SYSCALL_GATE), steps RIP
 * over it, calls dispatch and returns the result in rax. Any other #UD from user mode kills
 * the task. One case per SyscallNumbers value.
 *
 * Why a UD2 gate rather than SYSCALL or INT n: on this host's nested paravirtual KVM (kvm_pvm),
 * SYSCALL from ring 3, with STAR, LSTAR, FMASK and EFER.SCE set as Intel SDM Vol. 3A 5.8.8
 * prescribes, arrived at LSTAR still at CPL 3 (a user-mode instruction-fetch page fault, error
 * code 0x15, on the entry routine), and INT 0x80 or INT 0x81 through a DPL-3 gate arrived as
 * #UD on the INT instruction; QEMU TCG ran both correctly. Exceptions from ring 3 are
 * delivered correctly on both, so an exception is the portable way in.
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
                Semaphore.down(sched, semaphore);
            } else {
                Semaphore.post(sched, semaphore);
            }
            return 0;
        }
        if (number == SyscallNumbers.WRITE) {
            if (b > MAX_WRITE || !UserSpace.isUserRange(a, b)) {
                return -1;
            }
            Asm.call("kernel_user_print", a, b, (Cpu.readCr4() & CR4_SMAP) != 0 ? 1 : 0);
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
