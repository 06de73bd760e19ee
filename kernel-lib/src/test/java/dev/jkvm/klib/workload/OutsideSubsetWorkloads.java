package dev.jkvm.klib.workload;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.PerCpu;

/** Workload methods ring 3 cannot run, one per reason, each with the right signature. */
final class OutsideSubsetWorkloads {
    private OutsideSubsetWorkloads() {
    }

    @PerCpu
    static long perCpuCounter;

    static long floatingPoint(long index) {
        double half = index * 0.5;
        return (long) half;
    }

    static long printsHex(long index) {
        Console.printHex(index);
        return index;
    }

    static long perCpu(long index) {
        perCpuCounter += index;
        return perCpuCounter;
    }

    static long callsKernelCode(long index) {
        return BootAllocator.alignUp(index, 4096);
    }

    static int wrongSignature(int index) {
        return index;
    }

    long notStatic(long index) {
        return index;
    }
}
