package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.trap.InterruptCounts;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel's CallFunctionDispatch registry (klib_call_function, bound by the kernel build, so
 * smp never calls up into selftest): the functions the self-tests run on other CPUs, by id. Each
 * records what it saw in the running CPU's copy of the scratch variables below (PerCpuVariables,
 * registered at boot by registerScratch); ids it does not know belong to the self-test suite.
 */
public final class CrossCalls {
    private CrossCalls() {
    }

    /** PerCpuVariables offsets: the argument RECORD got, the APIC ID its CPU read, COUNT's
     *  interrupt count, the value READ found. */
    private static long result;
    private static long apicSeen;
    private static long interruptsSeen;
    private static long valueRead;

    /** Boot CPU, once the per-CPU areas exist (CpuResources.prepare) and before any cross call. */
    public static void registerScratch() {
        result = PerCpuVariables.register(8, 8);
        apicSeen = PerCpuVariables.register(8, 8);
        interruptsSeen = PerCpuVariables.register(8, 8);
        valueRead = PerCpuVariables.register(8, 8);
    }

    /** The argument the last RECORD on cpu stored. */
    public static long result(int cpu) {
        return Memory.load64(PerCpuVariables.of(cpu, result));
    }

    /** The APIC ID cpu's local APIC reported to the last RECORD. */
    public static int apicSeen(int cpu) {
        return (int) Memory.load64(PerCpuVariables.of(cpu, apicSeen));
    }

    /** cpu's interrupt count when the last COUNT ran on it. */
    public static long interruptsSeen(int cpu) {
        return Memory.load64(PerCpuVariables.of(cpu, interruptsSeen));
    }

    /** The value the last READ on cpu found. */
    public static long valueRead(int cpu) {
        return Memory.load64(PerCpuVariables.of(cpu, valueRead));
    }

    /** Stores the argument and the APIC ID of the CPU that ran it. */
    public static final int RECORD = 1;
    /** Counts one run in the global counter and snapshots the CPU's interrupt count. */
    public static final int COUNT = 2;
    /** Reads the 64-bit value at the address in the argument. */
    public static final int READ = 3;

    public static void run(int functionId, long argument, int cpu) {
        switch (functionId) {
            case RECORD -> {
                Memory.store64(PerCpuVariables.of(cpu, result), argument);
                Memory.store64(PerCpuVariables.of(cpu, apicSeen), Lapic.id());
            }
            case COUNT -> {
                SmpState.noteCallRun();
                Memory.store64(PerCpuVariables.of(cpu, interruptsSeen), InterruptCounts.interrupts());
            }
            case READ -> Memory.store64(PerCpuVariables.of(cpu, valueRead), Memory.load64(argument));
            default -> SelfTestSuite.runOnCpu(functionId, argument, cpu);
        }
    }
}
