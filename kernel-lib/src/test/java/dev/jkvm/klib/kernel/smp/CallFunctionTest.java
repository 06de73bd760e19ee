package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cross-CPU calls on simulated CPUs, including ids in the second word of the masks. */
class CallFunctionTest {
    private static final int CPU_COUNT = 66;
    private static final int[] CPUS = {0, 1, 2, 65};
    private static final int COUNT_RUNS = 7;

    /** runs[target * CPU_COUNT + initiator]: completed runs of initiator's calls on target. */
    private AtomicLongArray runs;
    private AtomicLongArray lastArgument;
    private final java.util.Queue<String> violations = new java.util.concurrent.ConcurrentLinkedQueue<>();

    @BeforeEach
    void bindRegistry() {
        runs = new AtomicLongArray(CPU_COUNT * CPU_COUNT);
        lastArgument = new AtomicLongArray(CPU_COUNT * CPU_COUNT);
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            int functionId = (int) args[0];
            long argument = args[1];
            int cpu = (int) args[2];
            if (functionId != COUNT_RUNS) {
                violations.add("function id " + functionId);
            }
            if (cpu != SimulatedSmp.runningCpu()) {
                violations.add("told it runs on cpu " + cpu + " but runs on " + SimulatedSmp.runningCpu());
            }
            int initiator = (int) (argument >>> 32);
            lastArgument.set(cpu * CPU_COUNT + initiator, argument);
            runs.incrementAndGet(cpu * CPU_COUNT + initiator);
            return 0;
        });
    }

    @Test
    void callSingleReturnsOnlyAfterTheTargetRanIt() throws Exception {
        int rounds = 60;
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            smp.run(CPUS, cpu -> {
                int index = indexOf(cpu);
                for (int round = 0; round < rounds; round++) {
                    int target = CPUS[(index + 1 + round % (CPUS.length - 1)) % CPUS.length];
                    long before = runs.get(target * CPU_COUNT + cpu);
                    long argument = ((long) cpu << 32) | round;
                    CallFunction.callSingle(smp.calls, cpu, target, COUNT_RUNS, argument);
                    assertEquals(before + 1, runs.get(target * CPU_COUNT + cpu), "cpu " + target + " did not run it");
                    assertEquals(argument, lastArgument.get(target * CPU_COUNT + cpu));
                    smp.poll(cpu);
                }
            });
            assertTrue(violations.isEmpty(), violations.toString());
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
        }
    }

    @Test
    void callManyRunsOnEveryCpuOfTheMaskAndOnlyThere() throws Exception {
        int rounds = 40;
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long all = smp.mask(CPUS);
            long withoutTwo = smp.mask(0, 1, 65);
            smp.run(CPUS, cpu -> {
                for (int round = 0; round < rounds; round++) {
                    long mask = round % 2 == 0 ? all : withoutTwo;
                    CallFunction.callMany(smp.calls, cpu, mask, COUNT_RUNS, ((long) cpu << 32) | round);
                    for (int target : CPUS) {
                        long expected = target == 2 ? (round + 2) / 2 : round + 1;
                        assertEquals(expected, runs.get(target * CPU_COUNT + cpu),
                                "runs of cpu " + cpu + "'s calls on cpu " + target + " after round " + round);
                    }
                    smp.poll(cpu);
                }
            });
            assertTrue(violations.isEmpty(), violations.toString());
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
        }
    }

    @Test
    void aCallToItselfRunsDirectly() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            smp.run(new int[] {65}, cpu -> {
                CallFunction.callSingle(smp.calls, cpu, cpu, COUNT_RUNS, (long) cpu << 32);
                CallFunction.callMany(smp.calls, cpu, smp.mask(65), COUNT_RUNS, (long) cpu << 32);
            });
            assertEquals(2, runs.get(65 * CPU_COUNT + 65));
            assertEquals(0, smp.ipisSent.get());
            assertTrue(violations.isEmpty(), violations.toString());
        }
    }

    private static int indexOf(int cpu) {
        for (int i = 0; i < CPUS.length; i++) {
            if (CPUS[i] == cpu) {
                return i;
            }
        }
        throw new IllegalArgumentException("cpu " + cpu);
    }
}
