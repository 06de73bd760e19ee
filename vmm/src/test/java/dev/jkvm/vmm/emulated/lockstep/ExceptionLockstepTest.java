package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exception delivery outside what {@link ExceptionKernel} covers, in lockstep with QEMU TCG
 * instruction by instruction (registers, the frames the handlers copy into registers, CR2, error
 * codes, hidden segment state whenever CS or a control register changes, all RAM at the end).
 */
class ExceptionLockstepTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        assumeTrue(EmulatedCpuUnderTest.available(), "the emulated CPU cannot execute yet");
    }

    /**
     * {@link ProtectedModeExceptionKernel}: 32-bit IDT interrupt and trap gates, error codes, CR2, ring 3 -> 0 through
     * ESP0/SS0; #TS(SS0) for an SS0 with RPL 3, #TS(TSS) for ESP0/SS0 beyond TR's limit; 16-bit interrupt and trap gates, in ring 0 and from ring 3, with their 16-bit IRETs.
     */
    @Test
    void protectedModeExceptionsAgreeWithQemu() throws Exception {
        long t0 = System.nanoTime();
        BootTrace.Result r = BootTrace.run(ProtectedModeExceptionKernel.build().toString(), null, 20_000,
                (kernel, entry) -> new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES), 10);
        System.out.printf("%s(%.1f s)%n", r.summary(), (System.nanoTime() - t0) / 1e9);
        assertTrue(r.agreed(), r.summary());
        assertTrue(r.end().startsWith("HLT"), "the kernel ran through every exception to its HLT: " + r.summary());
        // #GP's error code 0x82 * 8 + 2 (ECX) for INT 0x82 through an empty gate from ring 3; that frame's
        // outer SS (EDX) is the user data selector: it came through ESP0/SS0.
        assertEquals(0x412, r.oracleEnd().gpr[1], r.summary());
        assertEquals(0x23, r.oracleEnd().gpr[2], r.summary());
        // The last handler: #TS (EDI) with TR's selector 0x48 (ESI): ESP0/SS0 beyond the TSS limit.
        assertEquals(10, r.oracleEnd().gpr[7], r.summary());
        assertEquals(0x48, r.oracleEnd().gpr[6], r.summary());
        assertEquals(0x1B, r.oracleEnd().selector[1], r.summary());
        assertEquals(ProtectedModeExceptionKernel.UNMAPPED + 0x10, r.oracleEnd().cr2, r.summary());
        assertEquals(3, r.oracleEnd().gpr[0], "both 16-bit gates were taken: " + r.summary());
        assertEquals(0x10, r.oracleEnd().gpr[3], "#TS(SS0 selector) for SS0 with RPL 3: " + r.summary());
        // IRETD to the 16-bit stack segment: SP from the frame, ESP's upper half from the ring-0 stack, not 0xABCD.
        assertEquals(ProtectedModeExceptionKernel.LOW_USER_STACK, r.oracleEnd().gpr[5] & 0xFFFF, r.summary());
        assertTrue((r.oracleEnd().gpr[5] >>> 16) != 0xABCD, "IRETD to a 16-bit SS keeps ESP's upper half: " + r.summary());
    }

    /** {@link RealModeExceptionKernel}: the switch back to real mode and IVT delivery. */
    @Test
    void realModeInterruptsAgreeWithQemu() throws Exception {
        long t0 = System.nanoTime();
        BootTrace.Result r = BootTrace.run(RealModeExceptionKernel.build().toString(), null, 20_000,
                (kernel, entry) -> new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES), 10);
        System.out.printf("%s(%.1f s)%n", r.summary(), (System.nanoTime() - t0) / 1e9);
        assertTrue(r.agreed(), r.summary());
        assertTrue(r.end().startsWith("HLT"), "the kernel ran through every interrupt to its HLT: " + r.summary());
        assertEquals(0x21, r.oracleEnd().gpr[7], "the last handler was INT 0x21's: " + r.summary());
        assertEquals(0xFFFF, r.oracleEnd().gpr[3], "CS pushed by INT 0x21: " + r.summary());
        assertEquals(0xFFFF, r.oracleEnd().selector[1], r.summary());
    }

    /** {@link DoubleFaultKernel}: IST stacks chosen per gate, #DF from #DE + #NP and from #PF + #PF, triple fault. */
    @Test
    void doubleFaultIstAndTripleFaultAgreeWithQemu() throws Exception {
        long t0 = System.nanoTime();
        BootTrace.Result r = BootTrace.run(DoubleFaultKernel.build().toString(), null, 20_000,
                (kernel, entry) -> new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES), 10);
        System.out.printf("%s(%.1f s)%n", r.summary(), (System.nanoTime() - t0) / 1e9);
        assertTrue(r.agreed(), r.summary());
        assertTrue(r.end().contains("the CPU under test: SHUTDOWN"), "both shut down on the triple fault: " + r.summary());
        // The last handler run: #DF (R11) with error code 0 (R12) for the #PF taken while pushing the
        // first #PF's frame on the unmapped stack: CR2 (R9) is the second fault's address, the first push.
        assertEquals(8, r.oracleEnd().gpr[11], r.summary());
        assertEquals(0, r.oracleEnd().gpr[12], r.summary());
        assertEquals(DoubleFaultKernel.UNMAPPED - 8, r.oracleEnd().gpr[9], r.summary());
        // INT3 (IST2), #DF (IST1) twice: QEMU's null SS at the same CPL, recorded in QemuDeviations.
        assertEquals(3, r.takenFromOracle().get("SS after an IST delivery at the same CPL (QEMU 7.2 loads a null SS)"), r.summary());
    }
}
