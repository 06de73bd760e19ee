package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shootdowns and cross-CPU calls at the edges of the CPU masks: an initiator above CPU 63, whose bit sits in the
 * second word of its targets' incoming masks, and masks carrying bits at or beyond the machine's
 * CPU count, which are ignored (the online mask of a machine with fewer CPUs than CpuMask holds
 * may be built from a wider mask). TlbShootdownTest's four CPUs never reached either, and no
 * test of CallFunction.callMany passed bits beyond the machine.
 */
class MaskEdgesTest {
    private static final long START = 0x7f00_0040_0000L;

    private static List<String> pages(long start, int count) {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add("invlpg " + Long.toHexString(start + i * 4096L));
        }
        return expected;
    }

    @Test
    void anInitiatorAboveCpu63IsFoundInTheSecondWordOfTheIncomingMask() throws Exception {
        int cpuCount = 70;
        try (SimulatedSmp smp = new SimulatedSmp(cpuCount, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            List<List<String>> seen = Collections.synchronizedList(new ArrayList<>());
            long targets = smp.mask(0, 1, 65);
            smp.run(new int[] {0, 1, 65}, cpu -> {
                if (cpu == 65) {
                    TlbShootdown.shootdown(smp.tlb, 65, targets, START, 3, TlbShootdown.KERNEL_ASID);
                    seen.add(smp.tlbLog(0));
                    seen.add(smp.tlbLog(1));
                    seen.add(smp.tlbLog(65));
                }
            });
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
            assertEquals(List.of(pages(START, 3), pages(START, 3), pages(START, 3)), seen);
            assertEquals(0, TlbShootdown.runIncoming(smp.tlb, 0), "nothing left for cpu 0");
        }
    }

    @Test
    void maskBitsAtOrBeyondTheCpuCountAreIgnored() throws Exception {
        int cpuCount = 4;
        try (SimulatedSmp smp = new SimulatedSmp(cpuCount, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            List<List<String>> seen = Collections.synchronizedList(new ArrayList<>());
            long targets = smp.mask(1, cpuCount, 64, CpuMask.WORDS * 64 - 1);
            smp.run(new int[] {0, 1}, cpu -> {
                if (cpu == 0) {
                    TlbShootdown.shootdown(smp.tlb, 0, targets, START, 2, TlbShootdown.KERNEL_ASID);
                    seen.add(smp.tlbLog(0));
                    seen.add(smp.tlbLog(1));
                }
            });
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
            assertEquals(List.of(List.of(), pages(START, 2)), seen, "cpu 0 is not in the mask; cpu 1 is");
            assertEquals(1, smp.ipisSent.get(), "one IPI, to cpu 1");
        }
    }

    @Test
    void aCallToManyIgnoresMaskBitsAtOrBeyondTheCpuCount() throws Exception {
        int cpuCount = 4;
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            ran.add("run " + args[0] + "(" + args[1] + ") on " + args[2]);
            return 0;
        });
        try (SimulatedSmp smp = new SimulatedSmp(cpuCount, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long targets = smp.mask(0, 2, cpuCount, 64, CpuMask.WORDS * 64 - 1);
            smp.run(new int[] {0, 2}, cpu -> {
                if (cpu == 0) {
                    CallFunction.callMany(smp.calls, 0, targets, 6, 60);
                    ran.add("returned");
                }
            });
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
            List<String> log = new ArrayList<>(ran);
            assertEquals("returned", log.removeLast(), "it returned after both ran");
            Collections.sort(log);
            assertEquals(List.of("run 6(60) on 0", "run 6(60) on 2"), log);
            assertEquals(1, smp.ipisSent.get(), "one IPI, to cpu 2");
        }
    }
}
