package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Reg;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lockstep driver checked with QEMU on both sides: two QEMUs agree on every instruction of
 * random programs (so state copying, stepping, masking and the memory comparison add no false
 * mismatches), and a fault injected into one side is reported at the step it happened with the
 * register it touched (so the comparison can fail).
 */
class LockstepHarnessTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
    }

    @Test
    void qemuAgreesWithItselfOnRandomPrograms() throws Exception {
        RandomProgramRun.Result r = RandomProgramRun.run(RandomProgramRun.qemuTwin(null), 7, 40, 30, "max", true);
        assertTrue(r.failures().isEmpty(), r.summary(new Objdump()));
        assertTrue(r.steps() > 40 * 20, "instructions compared: " + r.steps());
        RandomProgramRun.Result fast = RandomProgramRun.run(RandomProgramRun.qemuTwin(null), 8, 200, 30, "max", false);
        assertTrue(fast.failures().isEmpty() && fast.replayed() == 0, fast.summary(new Objdump()));
    }

    @Test
    void anInjectedFaultIsReportedAtItsStepWithItsRegister() throws Exception {
        // A wrong carry after each program's first instruction: the fast path sees it in the
        // pushed flags and the stepwise replay pins it to step 1.
        RandomProgramRun.Result r = RandomProgramRun.run(RandomProgramRun.qemuTwin(s -> s.rflags ^= X86State.CF), 7, 2, 30, "max", false);
        // (A program whose first instruction group overwrites CF before its PUSHF hides the fault.)
        assertTrue(r.failures().size() >= 1, r.summary(new Objdump()));
        assertEquals(r.failures().size(), r.replayed(), "the fast path saw each difference and replayed those programs stepwise");
        RandomProgramRun.Failure f = r.failures().get(0);
        assertEquals(0, f.index());
        assertTrue(f.report().contains("mismatch at step 1,"), f.report());
        assertTrue(f.report().contains("rflags: expected"), f.report());

        // A wrong general register in stepwise mode.
        r = RandomProgramRun.run(RandomProgramRun.qemuTwin(s -> s.gpr[3] ^= 1 << 20), 7, 1, 30, "max", true);
        assertEquals(1, r.failures().size(), r.summary(new Objdump()));
        assertTrue(r.failures().get(0).report().contains("mismatch at step 1,"), r.failures().get(0).report());
        assertTrue(r.failures().get(0).report().contains("rbx: expected"), r.failures().get(0).report());
    }

    @Test
    void qemuAgreesWithItselfBootingHello() throws Exception {
        BootTrace.Result r = BootTrace.run(System.getProperty("lockstep.image", "hello.elf"), Long.getLong("lockstep.steps", 200_000), BootTrace.qemuTwin(), 5);
        System.out.print(r.summary());
        assertTrue(r.agreed(), r.summary());
        assertTrue(r.steps() > 1000, r.summary());
    }

    @Test
    void rewrittenCodeIsRetranslatedByQemu() throws Exception {
        LockstepKernel kernel = LockstepKernel.build();
        try (QemuTarget q = QemuTarget.start(kernel.file, "pc", RandomProgramRun.MEMORY)) {
            q.runTo(kernel.program);
            X86State base = q.state();
            for (long value : new long[] {0x1234, 0x5678, 0x9ABC}) {
                Assembler a = new Assembler(Mode.LONG64);
                a.mov(Reg.EAX, value).hlt();
                q.write(kernel.program, a.currentSection().linkAt(kernel.program));
                q.setState(base);
                q.step();
                assertEquals(value, q.state().gpr[0], "QEMU executed the bytes written last");
            }
        }
    }

    @Test
    void undefinedFlagMasksFollowTheSdm() {
        // mul rbx: SF ZF AF PF undefined; div: all; and: AF; shl by 1: AF; shl by CL=3: AF OF; rol by 1: none.
        assertEquals(X86State.SF | X86State.ZF | X86State.AF | X86State.PF, UndefinedFlags.of(new byte[] {0x48, (byte) 0xF7, (byte) 0xE3}, 64, 0));
        assertEquals(X86State.ARITHMETIC, UndefinedFlags.of(new byte[] {0x48, (byte) 0xF7, (byte) 0xF3}, 64, 0));
        assertEquals(X86State.AF, UndefinedFlags.of(new byte[] {0x21, (byte) 0xD8}, 64, 0));
        assertEquals(X86State.AF, UndefinedFlags.of(new byte[] {(byte) 0xD1, (byte) 0xE0}, 64, 0));
        assertEquals(X86State.AF | X86State.OF, UndefinedFlags.of(new byte[] {(byte) 0xD3, (byte) 0xE0}, 64, 3));
        assertEquals(0, UndefinedFlags.of(new byte[] {(byte) 0xD3, (byte) 0xE0}, 64, 32), "shl eax, cl with CL=32 masks to 0");
        assertEquals(0, UndefinedFlags.of(new byte[] {(byte) 0xD1, (byte) 0xC0}, 64, 0));
        // shl al, 9 (c0 e0 09): CF undefined too (count >= width)
        assertEquals(X86State.AF | X86State.OF | X86State.CF, UndefinedFlags.of(new byte[] {(byte) 0xC0, (byte) 0xE0, 9}, 64, 0));
        // shl dword [rbx+rsi*4+0x10], 2: the immediate is found after SIB and disp8
        assertEquals(X86State.AF | X86State.OF, UndefinedFlags.of(new byte[] {(byte) 0xC1, 0x64, (byte) 0xB3, 0x10, 2}, 64, 0));
        // bsf / tzcnt / bt
        assertEquals(X86State.ARITHMETIC & ~X86State.ZF, UndefinedFlags.of(new byte[] {0x0F, (byte) 0xBC, (byte) 0xC3}, 64, 0));
        assertEquals(X86State.OF | X86State.SF | X86State.AF | X86State.PF, UndefinedFlags.of(new byte[] {(byte) 0xF3, 0x0F, (byte) 0xBC, (byte) 0xC3}, 64, 0));
        assertEquals(X86State.OF | X86State.SF | X86State.AF | X86State.PF, UndefinedFlags.of(new byte[] {0x0F, (byte) 0xA3, (byte) 0xC3}, 64, 0));
        assertEquals(0, UndefinedFlags.of(new byte[] {0x48, 0x01, (byte) 0xD8}, 64, 0), "add");
        assertFalse(SpecialInstruction.of(new byte[] {(byte) 0xF3, 0x48, (byte) 0xA5}, 64) != SpecialInstruction.REP_STRING);
        assertEquals(SpecialInstruction.CPUID, SpecialInstruction.of(new byte[] {0x0F, (byte) 0xA2}, 64));
        assertEquals(SpecialInstruction.IN, SpecialInstruction.of(new byte[] {(byte) 0xEC}, 32));
    }

    @Test
    void randomProgramsAreReproducibleFromSeedAndIndex() {
        byte[] a = RandomProgram.generate(new Random(99), 40, 0x200000);
        byte[] b = RandomProgram.generate(new Random(99), 40, 0x200000);
        assertTrue(java.util.Arrays.equals(a, b));
        assertTrue(a.length > 40, "about 40 instructions: " + a.length + " bytes");
    }
}
