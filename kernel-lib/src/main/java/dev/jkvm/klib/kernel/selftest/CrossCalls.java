package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.trap.InterruptCounts;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel's CallFunctionDispatch registry (klib_call_function): the functions the self-tests
 * run on other CPUs, by id. Each records what it saw in the running CPU's SmpState record; ids
 * it does not know belong to the self-test suite.
 */
public final class CrossCalls {
    private CrossCalls() {
    }

    /** Stores the argument and the APIC ID of the CPU that ran it. */
    public static final int RECORD = 1;
    /** Counts one run in the global counter and snapshots the CPU's interrupt count. */
    public static final int COUNT = 2;
    /** Reads the 64-bit value at the address in the argument. */
    public static final int READ = 3;

    public static void run(int functionId, long argument, int cpu) {
        long record = SmpState.record(cpu);
        switch (functionId) {
            case RECORD -> {
                Memory.store64(record + SmpState.RESULT, argument);
                Memory.store32(record + SmpState.APIC_SEEN, Lapic.id());
            }
            case COUNT -> {
                SmpState.noteCallRun();
                Memory.store64(record + SmpState.INTERRUPTS, InterruptCounts.interrupts());
            }
            case READ -> Memory.store64(record + SmpState.TEST_VALUE, Memory.load64(argument));
            default -> SelfTestSuite.runOnCpu(functionId, argument, cpu);
        }
    }
}
