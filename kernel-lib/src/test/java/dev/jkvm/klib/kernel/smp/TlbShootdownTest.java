package dev.jkvm.klib.kernel.smp;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shootdowns on four simulated CPUs; CPUs 0, 1 and 3 run address space 5, CPU 2 runs space 7. */
class TlbShootdownTest {
    private static final int[] CPUS = {0, 1, 2, 3};
    private static final int THRESHOLD = TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD;
    private static final long START = 0x7f00_0040_0000L;

    private static SimulatedSmp machine() {
        SimulatedSmp smp = new SimulatedSmp(4, THRESHOLD);
        TlbShootdown.setCurrentAsid(smp.tlb, 0, 5);
        TlbShootdown.setCurrentAsid(smp.tlb, 1, 5);
        TlbShootdown.setCurrentAsid(smp.tlb, 2, 7);
        TlbShootdown.setCurrentAsid(smp.tlb, 3, 5);
        return smp;
    }

    private static List<String> pages(long start, int count) {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add("invlpg " + Long.toHexString(start + i * 4096L));
        }
        return expected;
    }

    /** Runs one shootdown from CPU 0 and returns each CPU's invalidations as seen when it returned. */
    private static List<List<String>> shootdownFromCpu0(SimulatedSmp smp, long mask, long pages, int asid)
            throws Exception {
        List<List<String>> seen = Collections.synchronizedList(new ArrayList<>());
        smp.run(CPUS, cpu -> {
            if (cpu == 0) {
                TlbShootdown.shootdown(smp.tlb, 0, mask, START, pages, asid);
                // Returned: every target must have acknowledged, so its invalidations are visible now.
                for (int other : CPUS) {
                    seen.add(smp.tlbLog(other));
                }
            }
        });
        assertTrue(smp.violations.isEmpty(), smp.violations.toString());
        return seen;
    }

    @Test
    void smallRangesAreInvalidatedPageByPageWhereTheSpaceRuns() throws Exception {
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(CPUS), 3, 5);
            assertEquals(pages(START, 3), seen.get(0));
            assertEquals(pages(START, 3), seen.get(1));
            assertEquals(List.of(), seen.get(2), "cpu 2 runs another address space");
            assertEquals(pages(START, 3), seen.get(3));
        }
    }

    @Test
    void theThresholdItselfStillUsesInvlpg() throws Exception {
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(CPUS), THRESHOLD, 5);
            assertEquals(pages(START, THRESHOLD), seen.get(1));
        }
    }

    @Test
    void largeUserRangesReloadCr3() throws Exception {
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(CPUS), THRESHOLD + 1, 5);
            assertEquals(List.of("reload cr3"), seen.get(0));
            assertEquals(List.of("reload cr3"), seen.get(1));
            assertEquals(List.of(), seen.get(2));
            assertEquals(List.of("reload cr3"), seen.get(3));
        }
    }

    @Test
    void kernelRangesReachEveryCpuAndLargeOnesDropGlobalPages() throws Exception {
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(CPUS), 1000, TlbShootdown.KERNEL_ASID);
            for (int cpu : CPUS) {
                assertEquals(List.of("toggle cr4.pge"), seen.get(cpu), "cpu " + cpu);
            }
        }
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(CPUS), 2, TlbShootdown.KERNEL_ASID);
            for (int cpu : CPUS) {
                assertEquals(pages(START, 2), seen.get(cpu), "cpu " + cpu);
            }
        }
    }

    @Test
    void onlyCpusInTheMaskAreInterrupted() throws Exception {
        try (SimulatedSmp smp = machine()) {
            List<List<String>> seen = shootdownFromCpu0(smp, smp.mask(1, 2), 1, TlbShootdown.KERNEL_ASID);
            assertEquals(List.of(), seen.get(0), "the initiator is not in the mask");
            assertEquals(pages(START, 1), seen.get(1));
            assertEquals(pages(START, 1), seen.get(2));
            assertEquals(List.of(), seen.get(3));
            assertEquals(2, smp.ipisSent.get());
        }
    }

    @Test
    void concurrentShootdownsAreEachAcknowledgedByEveryTarget() throws Exception {
        int rounds = 40;
        try (SimulatedSmp smp = machine()) {
            long all = smp.mask(CPUS);
            Set<String> missing = ConcurrentHashMap.newKeySet();
            smp.run(CPUS, cpu -> {
                for (int round = 0; round < rounds; round++) {
                    long start = ((long) (cpu + 1) << 32) | ((long) round << 16);
                    int count = 1 + round % 3;
                    TlbShootdown.shootdown(smp.tlb, cpu, all, start, count, TlbShootdown.KERNEL_ASID);
                    for (int target : CPUS) {
                        List<String> log = smp.tlbLog(target);
                        if (!log.containsAll(pages(start, count))) {
                            missing.add("cpu " + cpu + " round " + round + " returned before cpu " + target + " flushed");
                        }
                    }
                    smp.poll(cpu);
                }
            });
            assertEquals(Set.of(), missing);
            int perInitiator = 0;
            for (int round = 0; round < rounds; round++) {
                perInitiator += 1 + round % 3;
            }
            for (int cpu : CPUS) {
                assertEquals(CPUS.length * perInitiator, smp.tlbLog(cpu).size(), "invalidations on cpu " + cpu);
                assertEquals(0, smp.otherReasons(cpu));
            }
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
        }
    }

    /**
     * CPU 0 calls a function on CPU 1 while CPU 1 shoots down a range on CPU 0, both without an
     * interrupt window (interrupts disabled): each must serve the other's request while waiting.
     */
    @Test
    void initiatorsWaitingForEachOtherServeEachOther() throws Exception {
        try (SimulatedSmp smp = machine()) {
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            dev.jkvm.klib.rt.Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> calls.incrementAndGet());
            long barrier = smp.arena.allocate(dev.jkvm.klib.kernel.sync.SenseBarrier.SIZE, 64).address();
            dev.jkvm.klib.kernel.sync.SenseBarrier.init(barrier, 2);
            int rounds = 20;
            smp.run(new int[] {0, 1}, cpu -> {
                for (int round = 0; round < rounds; round++) {
                    dev.jkvm.klib.kernel.sync.SenseBarrier.await(barrier);
                    if (cpu == 0) {
                        CallFunction.callSingle(smp.calls, 0, 1, 1, round);
                    } else {
                        TlbShootdown.shootdown(smp.tlb, 1, smp.mask(0), START, 1, TlbShootdown.KERNEL_ASID);
                    }
                    // Interrupts back on: the IPI the other CPU sent may still be latched, and the
                    // barrier below spins with no interrupt window.
                    smp.poll(cpu);
                }
            });
            assertEquals(rounds, calls.get());
            assertEquals(rounds, smp.tlbLog(0).size());
        }
    }
}
