package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Segment loads, far transfers, descriptor-table instructions and control registers through
 * {@link SystemInstructions} with hand-built instructions (SDM Vol. 2 MOV/JMP/RET/LTR/LLDT/LAR,
 * Vol. 3 §5 and §9.8.5).
 */
class SegmentAndControlTest {
    static final long GDT = 0x1000;

    TestMachine m;
    X86Cpu cpu;
    CpuState s;

    @BeforeEach
    void setUp() {
        m = new TestMachine(4 << 20);
        cpu = m.cpu(0);
        s = cpu.s;
        PhysicalMemory mem = m.mem;
        mem.write(GDT + 0x08, 8, TestMachine.code64(0));
        mem.write(GDT + 0x10, 8, TestMachine.data(0));
        mem.write(GDT + 0x18, 8, TestMachine.code32(3));
        mem.write(GDT + 0x20, 8, TestMachine.data(3));
        mem.write(GDT + 0x28, 8, TestMachine.code64(3));
        mem.write(GDT + 0x30, 8, TestMachine.descriptor(0x5000, 0x67, 0x9, 0, false, false, false, false));
        mem.write(GDT + 0x38, 8, 0);
        mem.write(GDT + 0x40, 8, TestMachine.code32(0));
        mem.write(GDT + 0x48, 8, TestMachine.descriptor(0x6000, 0xF, 0x2, 0, false, false, false, false)); // LDT, 2 entries
        mem.write(0x6008, 8, TestMachine.descriptor(0x12340000L, 0xFFFF, 0x3, 0, true, false, true, false));
        s.gdtBase = GDT;
        s.gdtLimit = 0x4F;
    }

    static Insn insn(int opcode, int opSize) {
        Insn i = new Insn();
        i.opcode = opcode;
        i.opSize = opSize;
        i.addrSize = 8;
        i.mod = 3;
        i.length = 2;
        i.segment = CpuState.DS;
        return i;
    }

    /** An instruction whose memory operand is [RBX]. */
    static Insn mem(int opcode, int reg, int opSize) {
        Insn i = insn(opcode, opSize);
        i.mod = 0;
        i.reg = reg;
        i.base = CpuState.RBX;
        return i;
    }

    void exec(Insn i) { cpu.system.execute(cpu, i); }

    int fault(Insn i) { return assertThrows(CpuException.class, () -> exec(i)).vector; }

    @Test
    void farJumpFromCompatibilityModeEntersLongMode() {
        TestMachine.protected32(cpu, 0x40, 0x10, 0);
        s.efer = Msrs.EFER_LME | Msrs.EFER_LMA;
        s.cr4 = Mmu.CR4_PAE;
        assertFalse(cpu.mmu.is64());
        Insn jmp = insn(0x0EA, 4);
        jmp.imm = 0x200000;
        jmp.imm2 = 0x08;
        exec(jmp);
        assertTrue(cpu.mmu.is64(), "CS.L = 1 with LMA: 64-bit mode");
        assertEquals(0x08, s.segSelector[CpuState.CS]);
        assertEquals(0x200000, s.rip);
        assertTrue((m.mem.read(GDT + 0x08 + 5, 1) & 1) != 0, "descriptor accessed bit set");
    }

    @Test
    void lretqToRing3AndDataSegmentChecks() {
        TestMachine.longMode(cpu, 0, 0x08, 0x10, 0);
        s.cr0 &= ~Mmu.CR0_PG;
        // Stack: RIP, CS, RSP, SS for a return to ring 3.
        long sp = 0x80000;
        m.mem.write(sp, 8, 0x400123);
        m.mem.write(sp + 8, 8, 0x2B);
        m.mem.write(sp + 16, 8, 0x7000);
        m.mem.write(sp + 24, 8, 0x23);
        s.gpr[CpuState.RSP] = sp;
        s.segSelector[CpuState.DS] = 0x10;
        exec(insn(0x0CB, 8));
        assertEquals(3, s.cpl);
        assertEquals(0x2B, s.segSelector[CpuState.CS]);
        assertEquals(0x23, s.segSelector[CpuState.SS]);
        assertEquals(0x7000, s.gpr[CpuState.RSP]);
        assertEquals(0x400123, s.rip);
        assertTrue((s.segAttr[CpuState.DS] & CpuState.ATTR_UNUSABLE) != 0, "DS (DPL 0) nulled on the return to ring 3");

        // MOV DS, kernel data at CPL 3: #GP(selector); user data fine; null SS at CPL 3: #GP(0).
        Insn movDs = insn(0x08E, 2);
        movDs.reg = CpuState.DS;
        movDs.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x10;
        CpuException e = assertThrows(CpuException.class, () -> exec(movDs));
        assertEquals(CpuException.GP, e.vector);
        assertEquals(0x10, e.errorCode);
        s.gpr[CpuState.RAX] = 0x23;
        exec(movDs);
        assertEquals(0x23, s.segSelector[CpuState.DS]);
        Insn movSs = insn(0x08E, 2);
        movSs.reg = CpuState.SS;
        movSs.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0;
        assertEquals(CpuException.GP, fault(movSs));
        assertEquals(CpuException.GP, fault(insn(0x107, 8)), "SYSRET at CPL 3");
    }

    @Test
    void taskRegisterLdtAndLarLsl() {
        TestMachine.protected32(cpu, 0x40, 0x10, 0);
        Insn ltr = insn(0x100, 2);
        ltr.reg = 3;
        ltr.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x30;
        exec(ltr);
        assertEquals(0x5000, s.segBase[CpuState.TR]);
        assertEquals(0xB, m.mem.read(GDT + 0x30 + 5, 1) & 0xF, "TSS marked busy");
        assertEquals(CpuException.GP, fault(ltr), "a busy TSS cannot be loaded again");

        Insn lldt = insn(0x100, 2);
        lldt.reg = 2;
        lldt.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x48;
        exec(lldt);
        cpu.system.segments.loadData(CpuState.ES, 0x0C); // index 1, TI = 1
        assertEquals(0x12340000L, s.segBase[CpuState.ES]);

        Insn lsl = insn(0x103, 4);
        lsl.reg = CpuState.RDX;
        lsl.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x10;
        exec(lsl);
        assertEquals(0xFFFF_FFFFL, s.gpr[CpuState.RDX]);
        assertTrue((cpu.rflags() & Rflags.ZF) != 0);
        s.gpr[CpuState.RAX] = 0x78; // beyond the GDT limit
        exec(lsl);
        assertEquals(0, cpu.rflags() & Rflags.ZF);
        Insn lar = insn(0x102, 4);
        lar.reg = CpuState.RDX;
        lar.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x1B;
        exec(lar);
        assertEquals(0x00C0_FB00L, s.gpr[CpuState.RDX], "access rights of a DPL 3 code32 segment (limit bits masked)");
    }

    @Test
    void descriptorTableInstructionsAndUmip() {
        TestMachine.longMode(cpu, 0, 0x08, 0x10, 0);
        s.cr0 &= ~Mmu.CR0_PG;
        s.gpr[CpuState.RBX] = 0x3000;
        m.mem.write(0x3000, 2, 0xFFF);
        m.mem.write(0x3002, 8, 0xFFFF_8000_0000_2000L);
        exec(mem(0x101, 3, 4)); // LIDT [rbx]
        assertEquals(0xFFF, s.idtLimit);
        assertEquals(0xFFFF_8000_0000_2000L, s.idtBase);
        s.gpr[CpuState.RBX] = 0x3100;
        exec(mem(0x101, 0, 4)); // SGDT [rbx]
        assertEquals(0x4F, m.mem.read(0x3100, 2));
        assertEquals(GDT, m.mem.read(0x3102, 8));
        s.cpl = 3;
        assertEquals(CpuException.GP, fault(mem(0x101, 2, 4)), "LGDT at CPL 3");
        exec(mem(0x101, 1, 4)); // SIDT at CPL 3 without UMIP is allowed
        s.cr4 |= SystemInstructions.CR4_UMIP;
        assertEquals(CpuException.GP, fault(mem(0x101, 1, 4)), "SIDT at CPL 3 with UMIP");
    }

    @Test
    void controlRegisterRules() {
        TestMachine.protected32(cpu, 0x40, 0x10, 0);
        s.efer = Msrs.EFER_LME;
        Insn movCr0 = insn(0x122, 4);
        movCr0.reg = 0;
        movCr0.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0x8000_0011L;
        assertEquals(CpuException.GP, fault(movCr0), "PG with LME but without CR4.PAE");
        s.cr4 = Mmu.CR4_PAE;
        exec(movCr0);
        assertTrue((s.efer & Msrs.EFER_LMA) != 0, "IA32_EFER.LMA follows CR0.PG with LME");
        Insn movCr4 = insn(0x122, 4);
        movCr4.reg = 4;
        movCr4.rm = CpuState.RAX;
        s.gpr[CpuState.RAX] = 0;
        assertEquals(CpuException.GP, fault(movCr4), "clearing PAE in IA-32e mode");
        s.gpr[CpuState.RAX] = Mmu.CR4_PAE | (1L << 18);
        assertEquals(CpuException.GP, fault(movCr4), "OSXSAVE is not implemented");
        s.gpr[CpuState.RAX] = 0x8000_0000L;
        assertEquals(CpuException.GP, fault(movCr0), "PG without PE");
        s.cpl = 3;
        assertEquals(CpuException.GP, fault(movCr4), "CPL 3");
        // WRMSR EFER with a reserved bit: #GP(0).
        s.cpl = 0;
        s.gpr[CpuState.RCX] = Msrs.EFER;
        s.gpr[CpuState.RAX] = 1L << 3;
        s.gpr[CpuState.RDX] = 0;
        assertEquals(CpuException.GP, fault(insn(0x130, 4)));
        s.gpr[CpuState.RCX] = 0x1234_5678L; // unknown MSR
        assertEquals(CpuException.GP, fault(insn(0x132, 4)));
    }
}
