package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** SYSCALL/SYSRET (SDM Vol. 2B) and SWAPGS, through SystemInstructions with hand-built instructions. */
class SyscallTest {
    static Insn insn(int opcode, int opSize) {
        Insn i = new Insn();
        i.opcode = opcode;
        i.opSize = opSize;
        i.addrSize = 8;
        i.mod = 3;
        i.length = 2;
        return i;
    }

    @Test
    void roundTrip() {
        TestMachine m = new TestMachine(4 << 20);
        X86Cpu cpu = m.cpu(0);
        TestMachine.longMode(cpu, 0, 0x2B, 0x23, 3);
        cpu.s.cr0 &= ~Mmu.CR0_PG; // paging is irrelevant here; keep LMA as set
        CpuState s = cpu.s;
        s.star = (0x18L << 48) | (0x08L << 32);
        s.lstar = 0xFFFF_8000_0000_1000L;
        s.fmask = Rflags.IF | Rflags.DF | Rflags.TF;
        s.rip = 0x401002; // past the SYSCALL
        cpu.setRflags(0x202 | Rflags.DF | Rflags.ZF);
        s.segBase[CpuState.GS] = 0x1111;
        s.kernelGsBase = 0x2222;

        // Without EFER.SCE: #UD.
        s.efer &= ~Msrs.EFER_SCE;
        assertEquals(CpuException.UD, assertThrows(CpuException.class, () -> cpu.system.execute(cpu, insn(0x105, 4))).vector);
        s.efer |= Msrs.EFER_SCE;

        cpu.system.execute(cpu, insn(0x105, 4));
        assertEquals(0, s.cpl);
        assertEquals(0x08, s.segSelector[CpuState.CS]);
        assertEquals(0x10, s.segSelector[CpuState.SS]);
        assertEquals(0xFFFF_8000_0000_1000L, s.rip);
        assertEquals(0x401002, s.gpr[CpuState.RCX]);
        assertEquals(0x202 | Rflags.DF | Rflags.ZF, s.gpr[11]);
        assertEquals(0x2 | Rflags.ZF, cpu.rflags(), "FMASK cleared IF, DF");
        assertEquals(true, cpu.mmu.is64());

        cpu.system.execute(cpu, swapgs());
        assertEquals(0x2222, s.segBase[CpuState.GS]);
        assertEquals(0x1111, s.kernelGsBase);

        s.gpr[CpuState.RCX] = 0x401002;
        cpu.system.execute(cpu, insn(0x107, 8));
        assertEquals(3, s.cpl);
        assertEquals(0x2B, s.segSelector[CpuState.CS]);
        assertEquals(0x23, s.segSelector[CpuState.SS]);
        assertEquals(0x401002, s.rip);
        assertEquals(0x202 | Rflags.DF | Rflags.ZF, cpu.rflags());
        assertEquals(true, cpu.mmu.is64());

        // SYSRET at CPL 3: #GP(0).
        assertEquals(CpuException.GP, assertThrows(CpuException.class, () -> cpu.system.execute(cpu, insn(0x107, 8))).vector);

        // SYSRET with a 32-bit operand size returns to compatibility mode with CS = STAR[63:48].
        s.cpl = 0;
        s.segAttr[CpuState.CS] &= ~(3 << 5);
        s.gpr[CpuState.RCX] = 0xFFFF_FFFF_0000_1234L;
        cpu.system.execute(cpu, insn(0x107, 4));
        assertEquals(0x1B, s.segSelector[CpuState.CS]);
        assertEquals(0x1234, s.rip);
        assertEquals(false, cpu.mmu.is64());
    }

    static Insn swapgs() {
        Insn i = insn(0x101, 4);
        i.reg = 7;
        i.rm = 0;
        return i;
    }
}
