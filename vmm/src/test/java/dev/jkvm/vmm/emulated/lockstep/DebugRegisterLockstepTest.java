package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hardware breakpoints (DR0-DR3, DR6, DR7; Intel SDM Vol. 3B §17.2, §17.3.1) in lockstep with
 * QEMU TCG: {@link DebugRegisterKernel}'s instruction breakpoints (faults, RF), data breakpoints
 * of every length and kind (traps), DR6, the DR4/DR5 aliases and the #UD/#GP cases of MOV DR, in
 * ring 0 and ring 3. Registers after every instruction, the frames the #DB handler copies, all
 * RAM at the end.
 */
class DebugRegisterLockstepTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        assumeTrue(EmulatedCpuUnderTest.available(), "the emulated CPU cannot execute yet");
    }

    @Test
    void breakpointsAgreeWithQemu() throws Exception {
        long t0 = System.nanoTime();
        BootTrace.Result r = BootTrace.run(DebugRegisterKernel.build().toString(), null, 20_000,
                (kernel, entry) -> new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES), 10);
        System.out.printf("%s(%.1f s)%n", r.summary(), (System.nanoTime() - t0) / 1e9);
        assertTrue(r.agreed(), r.summary());
        assertTrue(r.end().startsWith("HLT"), "the kernel ran through every breakpoint to its HLT: " + r.summary());
        X86State end = r.oracleEnd();
        // 2 instruction-breakpoint faults in the loop, 6 write traps (lengths 1, 2, 4, 8, the PUSH, REP STOSB),
        // 3 read/write traps, the fault and the trap of one store, 2 in ring 3.
        assertEquals(15, end.gpr[10], "#DB count: " + r.summary());
        assertEquals(3, end.gpr[14], "each instruction under a breakpoint ran once: " + r.summary());
        // The last #DB: the ring-3 store, DR6.B1 alone, frame CS 0x2B and SS 0x23.
        assertEquals(0xFFFF_0FF2L, end.gpr[9], r.summary());
        assertEquals(0x2B, end.gpr[3], r.summary());
        assertEquals(0x23, end.gpr[8], r.summary());
        // MOV from DR5 read DR7, MOV to DR4 wrote DR6; MOV DR7 at CPL 3 was #GP(0).
        assertEquals(0x400 | DebugRegisterKernel.dr7(2, DebugRegisterKernel.WRITE, DebugRegisterKernel.LEN2), end.gpr[5], r.summary());
        assertEquals(0xFFFF_0FF1L, end.gpr[7], r.summary());
        assertEquals(13, end.gpr[11], r.summary());
        assertEquals(0, end.gpr[12], r.summary());
        // #UD and the three #GPs are faults: ours pushed RF = 1 in their frames, QEMU 7.2 0 (QemuDeviations).
        // With the REP STOSB iteration's trap: RF = 1 there too (SDM Vol. 3B §17.3.1.1), QEMU 0.
        assertEquals(5, r.takenFromOracle().get("RF in a fault's pushed RFLAGS (QEMU 7.2 pushes 0)"), r.summary());
        // The one store hitting DR0 and DR1: ours reported B0|B1, QEMU 7.2 B0 alone (QemuDeviations).
        assertEquals(1, r.takenFromOracle().get("DR6 with one of two data breakpoints hit by one access (QEMU 7.2)"), r.summary());
    }
}
