package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pages of random bytes executed in 64-bit mode at CPL 0 and CPL 3 (issue 11 §4): every run ends in
 * a guest exception handler, a port/MMIO exit, a halt, a shutdown or the step limit — never in a
 * Java exception escaping the CPU (an INTERNAL_ERROR exit names the bug).
 */
class RandomCodeTest {
    static final long GDT = 0x1000, IDT = 0x3000, TSS = 0x5000, PML4 = 0x10000, CODE = 0x200000, HANDLER = 0x300000;

    /** How runs ended: handler, halt, shutdown, step limit; and instructions retired in all. */
    static final long[] ENDINGS = new long[5];

    /** Runs one program; returns null when it ended acceptably, else a description of the internal error. */
    static String runOne(long seed, int cpl) {
        TestMachine m = new TestMachine(8 << 20);
        PhysicalMemory mem = m.mem;
        X86Cpu cpu = m.cpu(0);
        mem.write(GDT + 0x08, 8, TestMachine.code64(0));
        mem.write(GDT + 0x10, 8, TestMachine.data(0));
        mem.write(GDT + 0x18, 8, TestMachine.code32(3));
        mem.write(GDT + 0x20, 8, TestMachine.data(3));
        mem.write(GDT + 0x28, 8, TestMachine.code64(3));
        mem.write(GDT + 0x30, 8, TestMachine.descriptor(TSS, 0x67, 0x9, 0, false, false, false, false));
        mem.write(TSS + 4, 8, 0x90000);
        // Identity map 0..8 MiB with user-accessible 2 MiB pages; the handler page is supervisor-only.
        mem.write(PML4, 8, 0x11000 | 7);
        mem.write(0x11000, 8, 0x12000 | 7);
        for (int i = 0; i < 4; i++) mem.write(0x12000 + i * 8L, 8, (i * 0x200000L) | (i == 1 ? 0x83 : 0x87));
        for (int v = 0; v < 256; v++) {
            long off = HANDLER;
            long lo = (off & 0xFFFF) | (0x08L << 16) | (0xEL << 40) | (3L << 45) | (1L << 47) | ((off >>> 16) << 48);
            mem.write(IDT + v * 16L, 8, lo);
            mem.write(IDT + v * 16L + 8, 8, 0);
        }
        // Handler: out 0xF4, al (the run ends on this exit).
        mem.write(HANDLER, 1, 0xE6);
        mem.write(HANDLER + 1, 1, 0xF4);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 4096; i++) mem.write(CODE + i, 1, r.nextInt(256));
        TestMachine.longMode(cpu, PML4, cpl == 3 ? 0x2B : 0x08, cpl == 3 ? 0x23 : 0x10, cpl);
        cpu.s.gdtBase = GDT;
        cpu.s.gdtLimit = 0x3F;
        cpu.s.idtBase = IDT;
        cpu.s.idtLimit = 0xFFF;
        cpu.system.segments.loadTaskRegister(0x30);
        cpu.s.rip = CODE;
        cpu.s.gpr[CpuState.RSP] = 0x180000;
        for (int i = 0; i < 16; i++) if (i != CpuState.RSP) cpu.s.gpr[i] = r.nextLong() & 0x1F_FFFFL;
        try {
            return steps(cpu, seed, cpl);
        } finally {
            ENDINGS[4] += cpu.executor.retired;
        }
    }

    private static String steps(X86Cpu cpu, long seed, int cpl) {
        for (int step = 0; step < 2000; step++) {
            if (cpu.s.activity != CpuState.Activity.RUNNING) {
                ENDINGS[cpu.s.activity == CpuState.Activity.HALTED ? 1 : 2]++;
                return null;
            }
            CpuExit e = cpu.step();
            if (e == null) continue;
            switch (e.kind) {
                case INTERNAL_ERROR -> { return "seed " + seed + " cpl " + cpl + ": " + e; }
                case PORT_IN -> cpu.completeIn(0);
                case MMIO_READ -> cpu.completeMmioRead(0);
                case PORT_OUT -> {
                    if (e.port == 0xF4 && cpu.s.rip == HANDLER + 2) {
                        ENDINGS[0]++;
                        return null;
                    }
                }
                case SHUTDOWN, KICKED -> {
                    ENDINGS[2]++;
                    return null;
                }
                default -> { }
            }
        }
        ENDINGS[3]++;
        return null;
    }

    @Test
    void randomPagesInRing0AndRing3() {
        List<String> errors = new ArrayList<>();
        int runs = Integer.getInteger("fuzz.runs", 300);
        for (int i = 0; i < runs; i++) {
            for (int cpl : new int[] {0, 3}) {
                String err = runOne(0x5EED_0000L + i, cpl);
                if (err != null) errors.add(err);
            }
        }
        errors.stream().limit(20).forEach(System.out::println);
        System.out.println(2 * runs + " programs: " + ENDINGS[0] + " reached an exception handler, " + ENDINGS[1] + " halted, "
                + ENDINGS[2] + " shut down, " + ENDINGS[3] + " hit the step limit; " + ENDINGS[4] + " instructions retired");
        assertEquals(0, errors.size(), () -> errors.size() + " internal errors, first: " + errors.getFirst());
    }
}
