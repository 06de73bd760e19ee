package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.vmm.emulated.cpu.CpuState;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two vCPUs in lockstep with a two-vCPU QEMU TCG, stepped in a fixed interleaving: QEMU's gdbstub
 * exposes each vCPU as a thread, and {@code vCont;s:p1.N} steps one with the other stopped; the
 * emulated machine is two {@code X86Cpu}s over one RAM with their LAPICs on one {@code ApicBus}.
 * {@link TwoCpuLockstepKernel}: the BSP sends an NMI IPI to the AP, which wakes from HLT, takes it through its
 * real-mode IVT and halts again; every instruction of both is compared, the AP's from the step that
 * delivers the NMI (QEMU single-steps with interrupts allowed, {@code Qqemu.sstep=1}).
 * {@link FixedIpiKernel}: fixed IPIs between the two, each sent while the other is stopped at a
 * boundary the interleaving chooses, so even interrupts into a busy loop are taken at the same
 * instruction in both (see {@link #fixedIpisInterruptRunningCodeAlike}).
 */
class SmpLockstepTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        assumeTrue(EmulatedCpuUnderTest.available(), "the emulated CPU cannot execute yet");
    }

    @Test
    void anIpiFromOneCpuIsTakenByTheOtherAlike() throws Exception {
        Path kernel = TwoCpuLockstepKernel.build();
        long from = Images.symbol(kernel, TwoCpuLockstepKernel.LOCKSTEP);
        long read = Images.symbol(kernel, TwoCpuLockstepKernel.BSP_READ);
        long end = Images.symbol(kernel, TwoCpuLockstepKernel.END);
        Objdump objdump = new Objdump();
        try (QemuTarget q = QemuTarget.start(kernel, "pc", BootTrace.MEMORY, "qemu64", 2);
             EmulatedCpuUnderTest bsp = new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES, true);
             EmulatedCpuUnderTest ap = new EmulatedCpuUnderTest(bsp)) {
            q.runTo(from);
            assertEquals("OK", q.gdb.command("Qqemu.sstep=1"), "QEMU's gdbstub takes single-step flags");
            q.selectCpu(1);
            Lockstep apLock = new Lockstep(q, ap, objdump);
            apLock.copyRegisters(true);
            SegmentState apSegments = q.segments();
            if (apSegments.halted()) ap.cpu.s.activity = CpuState.Activity.HALTED;
            long apCsBase = apSegments.base()[1];
            q.selectCpu(0);
            Lockstep bspLock = new Lockstep(q, bsp, objdump);
            bspLock.copyEverything(BootTrace.MEMORY_BYTES);

            StringBuilder trace = new StringBuilder();
            int steps = 0;
            // 1. The BSP up to the read of the count: the ICR writes send the NMI.
            while (bspLock.oracleState().rip != read) {
                steps += step(q, bspLock, 0, 0, 32, trace);
            }
            // 2. The AP: woken by the NMI, through its handler's IRET, back to HLT (a few instructions).
            q.selectCpu(1);
            apLock.refresh();
            int apSteps = 0;
            for (; apSteps < 40; apSteps++) {
                X86State before = apLock.oracleState();
                byte[] code = q.read(apCsBase + before.rip, 16);
                if (apSteps > 0 && SpecialInstruction.of(code, 16) == SpecialInstruction.HLT) break;
                steps += step(q, apLock, 1, apCsBase, 16, trace);
            }
            assertEquals(1, q.read(TwoCpuLockstepKernel.COUNT, 1)[0], "the AP's handler ran once: " + trace);
            // 3. The BSP reads what the AP wrote.
            q.selectCpu(0);
            bspLock.refresh();
            while (bspLock.oracleState().rip != end) {
                steps += step(q, bspLock, 0, 0, 32, trace);
            }
            assertEquals(1, bspLock.oracleState().gpr[0], "the BSP read the AP's count: " + trace);
            System.out.printf("two vCPUs: %d instructions compared (AP: %d), trace %s%n", steps, apSteps, trace);
        }
    }

    /**
     * {@link FixedIpiKernel}: fixed IPIs from one vCPU interrupt the other between two instructions
     * the interleaving chooses — after MOV SS (held one instruction by its shadow alone), inside a
     * busy loop, inside a loop that toggles IF — and the reverse direction; before them, TF's
     * single-step trap held by POP SS and MOV SS. Every instruction of both vCPUs is compared.
     */
    @Test
    void fixedIpisInterruptRunningCodeAlike() throws Exception {
        Path kernel = FixedIpiKernel.build();
        long from = Images.symbol(kernel, FixedIpiKernel.LOCKSTEP);
        long shadowed = Images.symbol(kernel, FixedIpiKernel.BSP_SHADOWED);
        long loop = Images.symbol(kernel, FixedIpiKernel.BSP_LOOP);
        long loop2 = Images.symbol(kernel, FixedIpiKernel.BSP_LOOP2_STI);
        long waitAp = Images.symbol(kernel, FixedIpiKernel.BSP_WAIT_AP);
        long lss = Images.symbol(kernel, FixedIpiKernel.BSP_LSS);
        long sentLss = Images.symbol(kernel, FixedIpiKernel.AP_SENT_LSS);
        long nmiShadowed = Images.symbol(kernel, FixedIpiKernel.BSP_NMI_SHADOWED);
        long sentNmi = Images.symbol(kernel, FixedIpiKernel.AP_SENT_NMI);
        long popSsShadowed = Images.symbol(kernel, FixedIpiKernel.BSP_POP_SS_SHADOWED);
        long sentPopSs = Images.symbol(kernel, FixedIpiKernel.AP_SENT_POP_SS);
        long end = Images.symbol(kernel, FixedIpiKernel.END);
        long[] sent = {Images.symbol(kernel, FixedIpiKernel.AP_SENT1), Images.symbol(kernel, FixedIpiKernel.AP_SENT2),
                Images.symbol(kernel, FixedIpiKernel.AP_SENT3)};
        long apEnd = Images.symbol(kernel, FixedIpiKernel.AP_END);
        java.util.Map<Long, Integer> handlers = new java.util.HashMap<>();
        for (int v : new int[] {1, 2, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45}) handlers.put(Images.symbol(kernel, String.format("ipi_handler_%x", v)), v);
        Objdump objdump = new Objdump();
        long t0 = System.nanoTime();
        try (QemuTarget q = QemuTarget.start(kernel, "pc", BootTrace.MEMORY, "qemu64", 2);
             EmulatedCpuUnderTest bsp = new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES, true);
             EmulatedCpuUnderTest ap = new EmulatedCpuUnderTest(bsp)) {
            q.runTo(from);
            assertEquals("OK", q.gdb.command("Qqemu.sstep=1"), "QEMU's gdbstub takes single-step flags");
            q.selectCpu(1);
            Lockstep apLock = new Lockstep(q, ap, objdump);
            apLock.copyRegisters(true);
            q.selectCpu(0);
            Lockstep bspLock = new Lockstep(q, bsp, objdump);
            bspLock.copyEverything(BootTrace.MEMORY_BYTES);
            Lockstep[] locks = {bspLock, apLock};
            StringBuilder trace = new StringBuilder();
            java.util.List<String> taken = new java.util.ArrayList<>();
            int[] current = {0};
            // Steps vCPU cpu until its RIP is target (or, with a negative maxSteps, exactly -maxSteps steps).
            interface Runner {
                int run(int cpu, long target, int maxSteps) throws Exception;
            }
            Runner run = (cpu, target, maxSteps) -> {
                if (current[0] != cpu) {
                    q.selectCpu(cpu);
                    locks[cpu].refresh();
                    current[0] = cpu;
                }
                int n = 0;
                while (maxSteps < 0 ? n < -maxSteps : locks[cpu].oracleState().rip != target) {
                    if (n >= Math.abs(maxSteps)) throw new AssertionError("vCPU " + cpu + " did not reach 0x" + Long.toHexString(target) + ": " + trace);
                    n += step(q, locks[cpu], cpu, 0, 32, trace);
                    Integer v = handlers.get(locks[cpu].oracleState().rip);
                    if (v != null) {
                        long pushed = java.nio.ByteBuffer.wrap(q.read(locks[cpu].oracleState().gpr[4], 4))
                                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFF_FFFFL;
                        taken.add(String.format("%d:%x@%x", cpu, v, pushed));
                    }
                }
                return n;
            };
            int steps = 0;
            steps += run.run(0, shadowed, 200);           // 1. the #DB traps; 2. up to right after MOV SS
            steps += run.run(1, sent[0], 50);             // the AP sends 0x40
            steps += run.run(0, lss, 50);                 // the BSP: one instruction, then 0x40; 2b. LSS
            assertFalse(bsp.cpu.s.interruptShadow, "LSS sets no interrupt shadow (SDM Vol. 3A §6.8.3: MOV SS and POP SS do)");
            assertTrue(q.segments().interruptShadow(), "QEMU 7.2 still inhibits interrupts after LSS (QemuDeviations)");
            bsp.cpu.s.interruptShadow = true;             // QEMU's, so that both take 0x44 at the same boundary
            steps += run.run(1, sentLss, 50);             // the AP sends 0x44
            steps += run.run(0, nmiShadowed, 50);         // taken; 2c. up to right after MOV SS
            assertTrue(bsp.cpu.s.interruptShadow, "MOV SS's shadow holds an NMI (SDM Vol. 3C §24.4.2: blocking by MOV SS)");
            steps += run.run(1, sentNmi, 50);             // the AP sends an NMI
            bsp.cpu.s.interruptShadow = false;            // QEMU 7.2 delivers it in the shadow (QemuDeviations)
            steps += run.run(0, popSsShadowed, 50);       // taken at once in QEMU, so in ours too; 2d. up to right after POP SS
            assertTrue(bsp.cpu.s.interruptShadow, "POP SS's shadow (SDM Vol. 2B POP, Vol. 3A §6.8.3)");
            assertTrue(q.segments().interruptShadow(), "QEMU's too");
            steps += run.run(1, sentPopSs, 50);           // the AP sends 0x45
            steps += run.run(0, loop, 50);                // the BSP: one instruction, then 0x45
            steps += run.run(0, 0, -7);                   // 3. two loop iterations and a bit
            steps += run.run(1, sent[1], 50);             // the AP sends 0x41
            steps += run.run(0, loop2, 50);               // taken inside the loop; the flag ends it
            steps += run.run(0, 0, -5);                   // 4. into the second iteration, after its CLI
            long stopped = bspLock.oracleState().rip;
            steps += run.run(1, sent[2], 50);             // the AP sends 0x43
            steps += run.run(0, waitAp, 50);              // held to after the STI's shadow; 5. the BSP sends 0x42
            steps += run.run(1, apEnd, 50);               // the AP takes it after its STI's shadow
            steps += run.run(0, end, 50);                 // the BSP sees the AP's flag
            assertEquals(loop2, stopped, "the BSP was stopped after the second loop's CLI: " + trace);
            // vCPU:vector@the EIP in its frame: where each was taken (SDM Vol. 3A §6.8.3, Vol. 2B STI).
            java.util.List<String> expected = new java.util.ArrayList<>();
            String[][] events = {{"0", "1", "db1"}, {"0", "1", "db2"}, {"0", "40", "40"}, {"0", "44", "44"}, {"0", "2", "2"}, {"0", "45", "45"}, {"0", "41", "41"}, {"0", "43", "43"}, {"1", "42", "42"}};
            for (String[] e : events) expected.add(String.format("%s:%s@%x", e[0], e[1], Images.symbol(kernel, "ipi_ret_" + e[2])));
            assertEquals(expected, taken, "events taken, in order: " + trace);
            System.out.printf("fixed IPIs on two vCPUs: %d instructions compared, taken %s (%.1f s)%n", steps, taken,
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    private static int step(QemuTarget q, Lockstep lock, int cpu, long csBase, int bits, StringBuilder trace) throws Exception {
        X86State before = lock.oracleState();
        byte[] code = q.read(csBase + before.rip, 16);
        trace.append(cpu).append(':').append(Long.toHexString(before.rip)).append(' ');
        Lockstep.Mismatch m = lock.step(code, bits);
        assertNull(m, () -> "vCPU " + cpu + ": " + m.report() + "\ntrace: " + trace);
        return 1;
    }
}
