package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Stops the machine after an unrecoverable error: the panicking CPU sends an NMI (delivered even
 * with interrupts disabled, Intel SDM Vol. 3A 11.6.1) to every other online CPU; each records its
 * state (where the NMI found it) and halts; then the panicking CPU prints every CPU's state, one
 * line each in CPU order, and exits with ExitCodes.PANIC. The caller has printed why.
 *
 * The stopped CPUs do not print themselves: with 255 vCPUs on 2 host cores (QEMU TCG) CPUs that
 * took turns at the console in CPU order spun, each waiting for the one below it, and every turn
 * waited for that CPU's thread to be scheduled: 16 of 224 had printed after 10 s (issue 14). They
 * now all stop at once, and the one line per CPU comes from one CPU.
 */
public final class Panic {
    private Panic() {
    }

    /** How long the panicking CPU waits without another CPU stopping before it gives up on the rest. */
    private static final long STOP_QUIET_US = 1000000;

    /**
     * Each CPU's state as its NMI found it, a per-CPU variable (registerStopState): RIP, RSP,
     * RFLAGS, the APIC ID its local APIC reads, and STOPPED once it is all written.
     */
    private static final int STOP_RIP = 0;
    private static final int STOP_RSP = 8;
    private static final int STOP_RFLAGS = 16;
    private static final int STOP_APIC = 24;
    private static final int STOP_DONE = 28;
    private static final int STOP_BYTES = 32;
    private static final int STOPPED = 1;

    private static int panicking;
    private static int panicCpu;
    private static long stopState;

    /** At boot, once the per-CPU areas exist and before the APs start. */
    public static void registerStopState() {
        stopState = PerCpuVariables.register(STOP_BYTES, 8);
    }

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
                if (cpu != self && CpuRecord.isOnline(cpu) && stopState != 0) {
                    Memory.store32(PerCpuVariables.of(cpu, stopState) + STOP_DONE, 0);
                }
            }
            for (int cpu = 0; cpu < CpuRecord.count(); cpu++) {
                if (cpu != self && CpuRecord.isOnline(cpu)) {
                    Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.NMI | Lapic.ASSERT);
                    stopped++;
                }
            }
            // The wait ends when every CPU has stopped or none has for STOP_QUIET_US: a CPU that
            // never answers the NMI still ends the run, a host slow to schedule vCPUs does not.
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
            for (int cpu = 0; cpu < CpuRecord.count(); cpu++) {
                if (cpu != self && CpuRecord.isOnline(cpu)) {
                    printStopped(cpu);
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

    private static void printStopped(int cpu) {
        Console.print("cpu ");
        Log.dec(cpu);
        long state = stopState != 0 ? PerCpuVariables.of(cpu, stopState) : 0;
        if (state == 0 || Atomic.loadVolatile32(state + STOP_DONE) != STOPPED) {
            if (stopState != 0) {
                Console.print(" did not stop\n");
            } else {
                Console.print(": state not recorded (no per-cpu variable for it)\n");
            }
            return;
        }
        Console.print(" stopped by panic of cpu ");
        Log.dec(panicCpu);
        Console.print(": apic ");
        Log.dec(Memory.load32(state + STOP_APIC));
        Console.print(" rip ");
        Log.hex(Memory.load64(state + STOP_RIP));
        Console.print(" rsp ");
        Log.hex(Memory.load64(state + STOP_RSP));
        Console.print(" rflags ");
        Log.hex(Memory.load64(state + STOP_RFLAGS));
        Console.print("\n");
    }

    /** NMI handler while a panic is in progress: record this CPU's state and halt. */
    public static void stopThisCpu(long frame) {
        if (stopState != 0) {
            long state = PerCpuVariables.of(PerCpuArea.cpuIndex(), stopState);
            Memory.store64(state + STOP_RIP, Memory.load64(frame + TrapFrame.RIP));
            Memory.store64(state + STOP_RSP, Memory.load64(frame + TrapFrame.RSP));
            Memory.store64(state + STOP_RFLAGS, Memory.load64(frame + TrapFrame.RFLAGS));
            Memory.store32(state + STOP_APIC, Lapic.id());
            Atomic.storeVolatile32(state + STOP_DONE, STOPPED);
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
