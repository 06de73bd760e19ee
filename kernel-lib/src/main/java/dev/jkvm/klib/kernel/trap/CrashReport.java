package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * What the kernel prints for an exception it does not expect, then it stops the machine with
 * ExitCodes.EXCEPTION: vector and name, error code, RIP, CR2, the CPU, registers and a
 * frame-pointer backtrace with symbol names.
 */
public final class CrashReport {
    private CrashReport() {
    }

    public static void exception(long frame, int vector) {
        boolean locked = Log.lockForCrash();
        Console.print("\n*** exception ");
        printName(vector);
        Console.print(" (vector ");
        Log.dec(vector);
        Console.print(") on cpu ");
        Log.dec(CpuRecord.ready() ? PerCpuArea.cpuIndex() : 0);
        Console.print("\nerror code ");
        Log.hex(Memory.load64(frame + TrapFrame.ERROR_CODE));
        Console.print(" rip ");
        Log.hex(Memory.load64(frame + TrapFrame.RIP));
        Symbols.print(Memory.load64(frame + TrapFrame.RIP));
        Console.print(" cr2 ");
        Log.hex(Cpu.readCr2());
        Console.print("\nrsp ");
        Log.hex(Memory.load64(frame + TrapFrame.RSP));
        Console.print(" rbp ");
        Log.hex(Memory.load64(frame + TrapFrame.RBP));
        Console.print(" rflags ");
        Log.hex(Memory.load64(frame + TrapFrame.RFLAGS));
        Console.print(" cs ");
        Log.hex(Memory.load64(frame + TrapFrame.CS));
        Console.print("\nrax ");
        Log.hex(Memory.load64(frame + TrapFrame.RAX));
        Console.print(" rbx ");
        Log.hex(Memory.load64(frame + TrapFrame.RBX));
        Console.print(" rcx ");
        Log.hex(Memory.load64(frame + TrapFrame.RCX));
        Console.print(" rdx ");
        Log.hex(Memory.load64(frame + TrapFrame.RDX));
        Console.print(" rsi ");
        Log.hex(Memory.load64(frame + TrapFrame.RSI));
        Console.print(" rdi ");
        Log.hex(Memory.load64(frame + TrapFrame.RDI));
        Console.print("\n");
        if (SourceLines.find(Memory.load64(frame + TrapFrame.RIP)) != 0) {
            // Compiled Java faulted: where, as a Java stack trace names a frame.
            Console.print("fault");
            SourceLines.printAt(Memory.load64(frame + TrapFrame.RIP));
            Console.print("\n");
        }
        Panic.printBacktrace(Memory.load64(frame + TrapFrame.RBP));
        if (locked) {
            Log.unlock();
        }
        ExitCodes.exit(ExitCodes.EXCEPTION);
    }

    /** Mnemonics of Intel SDM Vol. 3A Table 6-1. */
    public static void printName(int vector) {
        switch (vector) {
            case 0 -> Console.print("#DE divide error");
            case 1 -> Console.print("#DB debug");
            case 2 -> Console.print("NMI");
            case 3 -> Console.print("#BP breakpoint");
            case 4 -> Console.print("#OF overflow");
            case 5 -> Console.print("#BR bound range");
            case 6 -> Console.print("#UD invalid opcode");
            case 7 -> Console.print("#NM device not available");
            case 8 -> Console.print("#DF double fault");
            case 10 -> Console.print("#TS invalid TSS");
            case 11 -> Console.print("#NP segment not present");
            case 12 -> Console.print("#SS stack fault");
            case 13 -> Console.print("#GP general protection");
            case 14 -> Console.print("#PF page fault");
            case 16 -> Console.print("#MF x87 error");
            case 17 -> Console.print("#AC alignment check");
            case 18 -> Console.print("#MC machine check");
            case 19 -> Console.print("#XM SIMD exception");
            case 20 -> Console.print("#VE virtualization exception");
            case 21 -> Console.print("#CP control protection");
            default -> Console.print("reserved exception");
        }
    }
}
