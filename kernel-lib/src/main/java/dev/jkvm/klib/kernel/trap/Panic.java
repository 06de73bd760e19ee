package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Stops the machine after an unrecoverable error: the panicking CPU sends an NMI (delivered even
 * with interrupts disabled, Intel SDM Vol. 3A 11.6.1) to every other online CPU; each prints its
 * state and halts; then the panicking CPU exits with ExitCodes.PANIC. The caller has printed why.
 */
public final class Panic {
    private Panic() {
    }

    /** How long the panicking CPU waits without another CPU stopping before it gives up on the rest. */
    private static final long STOP_QUIET_US = 1000000;

    private static int panicking;
    private static int panicCpu;

    public static boolean inProgress() {
        return panicking != 0;
    }

    public static void panic() {
        Cpu.cli();
        int self = CpuRecord.ready() ? PerCpuArea.cpuIndex() : 0;
        if (panicking != 0) {
            Asm.call("kernel_halt_forever");
        }
        panicking = 1;
        panicCpu = self;
        // A CPU the NMI stops may hold the console's output lock; nobody waits for it for long now.
        Log.emergency();
        Console.print("panic: on cpu ");
        Log.dec(self);
        Console.print(", stopping the other cpus\n");
        printBacktrace(Asm.call("kernel_read_rbp"));
        if (CpuRecord.ready()) {
            int stopped = 0;
            for (int cpu = 0; cpu < CpuRecord.count(); cpu++) {
                if (cpu != self && CpuRecord.isOnline(cpu)) {
                    Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.NMI | Lapic.ASSERT);
                    stopped++;
                }
            }
            // The stopped CPUs print one at a time, in CPU order (stopThisCpu), so stopping all
            // takes one console hand-off per CPU, each waiting for that vCPU's thread where vCPUs
            // outnumber host cores (QEMU TCG, 225 CPUs on 2 host cores: 3 had stopped after a fixed
            // 200 ms). The wait ends when every CPU has stopped or none has for STOP_QUIET_US: a
            // CPU that never answers the NMI still ends the run, a slow host does not.
            int seen = CpuRecord.haltedCount();
            long deadline = Delay.deadline(STOP_QUIET_US);
            while (seen < stopped && !Delay.passed(deadline)) {
                Cpu.pause();
                int now = CpuRecord.haltedCount();
                if (now != seen) {
                    seen = now;
                    deadline = Delay.deadline(STOP_QUIET_US);
                }
            }
            Console.print("panic: ");
            Log.dec(CpuRecord.haltedCount());
            Console.print(" of ");
            Log.dec(stopped);
            Console.print(" other cpus stopped\n");
        }
        ExitCodes.exit(ExitCodes.PANIC);
    }

    /** NMI handler while a panic is in progress: print this CPU's state and halt. */
    public static void stopThisCpu(long frame) {
        // Stopped CPUs print one at a time, in CPU order: each waits until every online CPU below
        // it (the panicking one aside) has printed and counted itself stopped. The console lock
        // alone is not enough here: lockForCrash gives up after a bounded spin, and on a
        // round-robin emulator (QEMU TCG) that let the lines of two CPUs interleave. A CPU below
        // that never arrives only delays this one until the panicking CPU's deadline ends the VM.
        int self = PerCpuArea.cpuIndex();
        int rank = 0;
        for (int cpu = 0; cpu < self; cpu++) {
            if (cpu != panicCpu && CpuRecord.isOnline(cpu)) {
                rank++;
            }
        }
        while (CpuRecord.haltedCount() < rank) {
            Cpu.pause();
        }
        boolean locked = Log.lockForCrash();
        Console.print("cpu ");
        Log.dec(PerCpuArea.cpuIndex());
        Console.print(" stopped by panic of cpu ");
        Log.dec(panicCpu);
        Console.print(": apic ");
        Log.dec(Lapic.id());
        Console.print(" rip ");
        Log.hex(Memory.load64(frame + TrapFrame.RIP));
        Console.print(" rsp ");
        Log.hex(Memory.load64(frame + TrapFrame.RSP));
        Console.print(" rflags ");
        Log.hex(Memory.load64(frame + TrapFrame.RFLAGS));
        Console.print("\n");
        if (locked) {
            Log.unlock();
        }
        CpuRecord.noteHalted();
        Asm.call("kernel_halt_forever");
    }

    /** Frame-pointer backtrace (CallingConvention: [rbp] = caller's rbp, [rbp + 8] = return address). */
    public static void printBacktrace(long rbp) {
        Console.print("backtrace:");
        for (int depth = 0; depth < 16 && rbp >= 0x1000 && (rbp & 7) == 0 && rbp < 0x100000000L; depth++) {
            long returnAddress = Memory.load64(rbp + 8);
            if (returnAddress == 0) {
                break;
            }
            Console.print("\n  ");
            Log.hex(returnAddress);
            Symbols.print(returnAddress);
            // The call instruction ends just before the return address: its line is the caller's.
            SourceLines.printAt(returnAddress - 1);
            rbp = Memory.load64(rbp);
        }
        Console.print("\n");
    }

    /** klib_panic_divide_by_zero: rdi = site text. */
    public static void divideByZero(long site) {
        Console.print("panic: division by zero at ");
        Log.puts(site);
        Console.print("\n");
        panic();
    }

    /** klib_panic_array_index: rdi = site text, esi = index, edx = length. */
    public static void arrayIndex(long site, int index, int length) {
        Console.print("panic: array index ");
        Log.dec(index);
        Console.print(" out of range 0..");
        Log.dec(length);
        Console.print(" at ");
        Log.puts(site);
        Console.print("\n");
        panic();
    }

    /** klib_panic (sync helpers' checks): they printed the message. */
    public static void syncCheckFailed() {
        panic();
    }
}
