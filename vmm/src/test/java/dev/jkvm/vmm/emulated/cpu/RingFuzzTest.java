package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 11 §4/§5 fuzz: pages of random bytes executed in ring 0 and in ring 3 of a 64-bit kernel
 * through the whole CPU ({@link X86Cpu#step}: decode, execute, exception delivery through the
 * IDT with privilege change to the TSS's RSP0, #DF, triple fault), {@value #DEFAULT_PROGRAMS}
 * programs per ring per CI run ({@code -Dfuzz.programs=N} for more, {@code -Dfuzz.seed=N}).
 *
 * <p>Each program must end in one of: a guest exception delivered through the IDT (its handler,
 * a HLT at {@code HANDLER + 16 * vector}, is reached), a HLT of the program itself (ring 0), a
 * shutdown exit (triple fault: the VMM's crash report), or the instruction budget (a guest
 * loop; under the VMM its timeout report). Port I/O and MMIO exits are answered and the program
 * goes on (endings are counted by the IDT vector whose handler was reached, so an INT 18 in the
 * random bytes counts as "#MC"). An internal-error exit (a Java exception inside the emulator) or any Throwable
 * reaching the test is a failure; the JVM surviving all programs is the rest of the property.
 * RAM beyond the 32 MiB machine is MMIO to the VMM, so no guest access reaches host memory.
 */
class RingFuzzTest {
    static final int DEFAULT_PROGRAMS = 5000;
    private static final long GDT = 0x1000, IDT = 0x3000, TSS = 0x5000, PML4 = 0x10000;
    private static final long HANDLER = 0x200000, RSP0 = 0x90000, USER_STACK = 0x70000, CODE = 0x400000;
    private static final int STEPS = 300;

    @ParameterizedTest
    @ValueSource(ints = {0, 3})
    void randomPagesEndInAGuestExceptionOrAReport(int ring) {
        int programs = Integer.getInteger("fuzz.programs", DEFAULT_PROGRAMS);
        long seed = Long.getLong("fuzz.seed", 20261203L);
        TestMachine m = new TestMachine(32 << 20);
        PhysicalMemory mem = m.mem;
        // Handlers: HLT at HANDLER + 16 * vector.
        for (int v = 0; v < 256; v++) mem.write(HANDLER + 16L * v, 1, 0xF4);
        Map<String, Integer> endings = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        byte[] page = new byte[4096];
        long t0 = System.nanoTime();
        for (int p = 0; p < programs; p++) {
            Random rnd = new Random(seed * 1_000_003L + p * 2L + ring);
            rnd.nextBytes(page);
            for (int i = 0; i < 4096; i += 8) mem.write(CODE + i, 8, java.nio.ByteBuffer.wrap(page, i, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            X86Cpu cpu = m.cpu(0);
            kernel(cpu, mem, ring);
            for (int r = 0; r < 16; r++) {
                if (r != CpuState.RSP) cpu.s.gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextLong() : 0x600000 + rnd.nextInt(0x10000);
            }
            String end;
            try {
                end = run(cpu);
            } catch (Throwable t) {
                end = "FAILED: " + t;
            }
            endings.merge(end.startsWith("FAILED") ? "FAILED" : end, 1, Integer::sum);
            if (end.startsWith("FAILED") && failures.size() < 20) {
                failures.add("ring " + ring + " program " + p + " (seed " + seed + "): " + end + "; first bytes "
                        + HexFormat.of().formatHex(page, 0, 32));
            }
        }
        String summary = String.format("ring %d: %d programs of random bytes in %.1f s, endings %s", ring, programs,
                (System.nanoTime() - t0) / 1e9, endings);
        System.out.println(summary);
        assertTrue(failures.isEmpty(), summary + "\n" + String.join("\n", failures));
        int exceptions = endings.entrySet().stream().filter(e -> e.getKey().startsWith("#")).mapToInt(Map.Entry::getValue).sum();
        assertTrue(exceptions > programs / 2, "most random pages fault: " + summary);
    }

    /** Steps one program to its end; returns how it ended. */
    private static String run(X86Cpu cpu) {
        CpuState s = cpu.s;
        for (int i = 0; i < STEPS; i++) {
            // A HLT would make the next step sleep until an event: stop before it.
            if (s.activity == CpuState.Activity.HALTED) {
                long at = s.rip - 1 - HANDLER;
                return at >= 0 && at < 16 * 256 && at % 16 == 0 ? "#" + vectorName((int) (at / 16)) : "HLT";
            }
            long rip = s.rip;
            CpuExit e = cpu.step();
            if (e == null) continue;
            switch (e.kind) {
                case PORT_IN -> cpu.completeIn(0xFFFF_FFFFL);
                case MMIO_READ -> cpu.completeMmioRead(0);
                case PORT_OUT, MMIO_WRITE, KICKED -> { }
                case SHUTDOWN -> {
                    return "shutdown (triple fault)";
                }
                case INTERNAL_ERROR -> {
                    return "FAILED: internal error at RIP 0x" + Long.toHexString(rip) + ": " + e;
                }
            }
        }
        return "budget";
    }

    private static String vectorName(int v) {
        String[] names = {"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF", "15",
                "MF", "AC", "MC", "XM"};
        return v < names.length ? names[v] : "INT n";
    }

    /**
     * A 64-bit kernel as {@link ExceptionDeliveryTest#longModeKernel}: GDT, TSS with RSP0, an IDT
     * of 256 interrupt gates (DPL 3, so INT n from ring 3 reaches them), identity map of 32 MiB in
     * user-accessible 2 MiB pages; the program at {@link #CODE} in ring {@code ring}. Rewritten
     * for each program: ring-0 random code may have overwritten any of it.
     */
    private static void kernel(X86Cpu cpu, PhysicalMemory mem, int ring) {
        mem.write(GDT, 8, 0);
        mem.write(GDT + 0x08, 8, TestMachine.code64(0));
        mem.write(GDT + 0x10, 8, TestMachine.data(0));
        mem.write(GDT + 0x18, 8, TestMachine.code32(3));
        mem.write(GDT + 0x20, 8, TestMachine.data(3));
        mem.write(GDT + 0x28, 8, TestMachine.code64(3));
        mem.write(GDT + 0x30, 8, TestMachine.descriptor(TSS, 0x67, 0x9, 0, false, false, false, false));
        mem.write(GDT + 0x38, 8, 0);
        for (int i = 0; i < 0x68; i += 8) mem.write(TSS + i, 8, 0);
        mem.write(TSS + 4, 8, RSP0);
        mem.write(PML4, 8, 0x11000 | 7);
        for (int i = 1; i < 512; i++) mem.write(PML4 + 8L * i, 8, 0);
        mem.write(0x11000, 8, 0x12000 | 7);
        for (int i = 1; i < 512; i++) mem.write(0x11000 + 8L * i, 8, 0);
        for (int i = 0; i < 512; i++) mem.write(0x12000 + i * 8L, 8, i < 16 ? (i * 0x200000L) | 0x87 : 0);
        for (int v = 0; v < 256; v++) {
            long h = HANDLER + 16L * v;
            mem.write(IDT + v * 16L, 8, ExceptionDeliveryTest.gate64Lo(h, 0x08, 0xE, 3, 0, true));
            mem.write(IDT + v * 16L + 8, 8, h >>> 32);
            mem.write(h, 1, 0xF4);
        }
        TestMachine.longMode(cpu, PML4, 0x08, 0x10, 0);
        CpuState s = cpu.s;
        s.gdtBase = GDT;
        s.gdtLimit = 0x3F;
        s.idtBase = IDT;
        s.idtLimit = 256 * 16 - 1;
        cpu.system.segments.loadTaskRegister(0x30);
        s.gpr[CpuState.RSP] = ring == 0 ? RSP0 : USER_STACK;
        if (ring == 3) {
            s.segSelector[CpuState.CS] = 0x2B;
            s.segAttr[CpuState.CS] |= 3 << 5;
            s.segSelector[CpuState.SS] = 0x23;
            s.segAttr[CpuState.SS] |= 3 << 5;
            s.cpl = 3;
        }
        s.rip = CODE;
        cpu.setRflags(0x202);
        cpu.stateChanged();
    }
}
