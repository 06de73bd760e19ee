package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Instruction fetch checks the CS limit outside 64-bit mode: an instruction any byte of which lies
 * beyond it raises #GP(0) before it executes (SDM Vol. 3A §5.3 "Limit Checking", Vol. 2 §2.2.1 and
 * the "Protected Mode Exceptions: #GP(0) ... beyond the CS segment limit" of each instruction;
 * real mode likewise, Vol. 3A §20.1.1 "#GP for a code fetch beyond offset FFFFh"), and the
 * instructions before it in the same decoded block still execute.
 */
class CodeSegmentLimitTest {
    /** At most 100 instructions (without the check the code runs on past the limit), stopping at HLT. */
    private static void run(IsaMachine m) {
        m.s.activity = CpuState.Activity.RUNNING;
        for (int i = 0; i < 100 && m.s.activity == CpuState.Activity.RUNNING; i++) m.executor.run(8);
        if (m.s.activity != CpuState.Activity.HALTED) throw new AssertionError("no fault and no HLT, RIP 0x" + Long.toHexString(m.s.rip));
    }

    @ParameterizedTest
    @ValueSource(ints = {Decoder.MODE16, Decoder.MODE32})
    void fetchBeyondTheCsLimitIsAGeneralProtectionFault(int mode) {
        IsaMachine m = new IsaMachine(mode);
        long limit = 0x1FFE;
        m.s.segLimit[CpuState.CS] = limit;
        m.cpu.stateChanged();
        // Three INC EAX/AX, then a 2-byte NOP from the limit (its second byte at limit + 1), all in
        // one page and so one decoded block: the block runs to the NOP, which faults.
        long at = limit - 3;
        m.load(at, new byte[] {0x40, 0x40, 0x40, 0x66, (byte) 0x90, (byte) 0xF4});
        m.s.gpr[CpuState.RAX] = 0;
        m.s.rip = at;
        CpuException e = assertThrows(CpuException.class, () -> run(m));
        assertEquals(CpuException.GP, e.vector);
        assertEquals(0, e.errorCode);
        assertEquals(limit, m.s.rip, "RIP of the faulting instruction");
        assertEquals(3, m.s.gpr[CpuState.RAX], "the three instructions inside the limit ran");
    }

    @ParameterizedTest
    @ValueSource(ints = {Decoder.MODE16, Decoder.MODE32})
    void anInstructionEndingExactlyAtTheLimitRuns(int mode) {
        IsaMachine m = new IsaMachine(mode);
        m.s.segLimit[CpuState.CS] = 0x2000;
        m.cpu.stateChanged();
        m.load(0x1FFE, new byte[] {0x40, 0x40, (byte) 0xF4});
        m.s.rip = 0x1FFE;
        run(m);
        assertEquals(2, m.s.gpr[CpuState.RAX]);
        assertEquals(0x2001, m.s.rip);
    }

    @ParameterizedTest
    @ValueSource(ints = {Decoder.MODE16, Decoder.MODE32})
    void aBranchTargetBeyondTheLimitFaults(int mode) {
        // Hardware raises this #GP at the JMP itself (SDM Vol. 2A JMP: "IF tempEIP is beyond code
        // segment limit THEN #GP(0)"); the emulated CPU checks at fetch, so it reports the target's
        // address instead. Only the vector is asserted: a known, documented deviation.
        IsaMachine m = new IsaMachine(mode);
        m.s.segLimit[CpuState.CS] = 0x1FFF;
        m.cpu.stateChanged();
        // JMP +0x100 from 0x1E00 lands at 0x1F02 (inside); the next JMP lands beyond the limit at 0x2100.
        m.load(0x1E00, new byte[] {(byte) 0xEB, 0x7E});
        m.load(0x1E80, new byte[] {(byte) 0xE9, 0x7D, 0x02, 0x00, 0x00});
        if (mode == Decoder.MODE16) m.load(0x1E80, new byte[] {(byte) 0xE9, 0x7D, 0x02});
        m.s.rip = 0x1E00;
        CpuException e = assertThrows(CpuException.class, () -> run(m));
        assertEquals(CpuException.GP, e.vector);
    }
}
