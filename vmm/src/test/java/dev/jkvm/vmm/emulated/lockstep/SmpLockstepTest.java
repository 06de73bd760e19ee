package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    private static int step(QemuTarget q, Lockstep lock, int cpu, long csBase, int bits, StringBuilder trace) throws Exception {
        X86State before = lock.oracleState();
        byte[] code = q.read(csBase + before.rip, 16);
        trace.append(cpu).append(':').append(Long.toHexString(before.rip)).append(' ');
        Lockstep.Mismatch m = lock.step(code, bits);
        assertNull(m, () -> "vCPU " + cpu + ": " + m.report() + "\ntrace: " + trace);
        return 1;
    }
}
