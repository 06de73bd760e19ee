package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Exception and interrupt delivery frames (SDM Vol. 3 §6.12, §6.14), #DF and triple fault (Table 6-5), IRET. */
class ExceptionDeliveryTest {
    static final long GDT = 0x1000, IDT = 0x3000, TSS = 0x5000, PML4 = 0x10000;
    static final long HANDLER = 0x200000;
    static final long RSP0 = 0x90000, IST1 = 0xA0000;

    TestMachine m;
    X86Cpu cpu;
    PhysicalMemory mem;

    @BeforeEach
    void setUp() {
        m = new TestMachine(32 << 20);
        cpu = m.cpu(0);
        mem = m.mem;
    }

    static long gate64Lo(long offset, int sel, int type, int dpl, int ist, boolean present) {
        long lo = offset & 0xFFFF;
        lo |= (long) sel << 16;
        lo |= (long) ist << 32;
        lo |= (long) type << 40;
        lo |= (long) dpl << 45;
        if (present) lo |= 1L << 47;
        lo |= ((offset >>> 16) & 0xFFFF) << 48;
        return lo;
    }

    void gate64(int vector, long offset, int type, int dpl, int ist, boolean present) {
        mem.write(IDT + vector * 16L, 8, gate64Lo(offset, 0x08, type, dpl, ist, present));
        mem.write(IDT + vector * 16L + 8, 8, offset >>> 32);
    }

    /** 64-bit kernel: GDT (0x08 code64, 0x10 data, 0x18 user code32, 0x20 user data, 0x28 user code64, 0x30 TSS), IDT, TSS, identity map of 32 MiB. */
    void longModeKernel() {
        mem.write(GDT + 0x08, 8, TestMachine.code64(0));
        mem.write(GDT + 0x10, 8, TestMachine.data(0));
        mem.write(GDT + 0x18, 8, TestMachine.code32(3));
        mem.write(GDT + 0x20, 8, TestMachine.data(3));
        mem.write(GDT + 0x28, 8, TestMachine.code64(3));
        mem.write(GDT + 0x30, 8, TestMachine.descriptor(TSS, 0x67, 0x9, 0, false, false, false, false));
        mem.write(GDT + 0x38, 8, 0);
        mem.write(TSS + 4, 8, RSP0);
        mem.write(TSS + 0x24, 8, IST1);
        // Identity map 0..32 MiB with user-accessible 2 MiB pages.
        mem.write(PML4, 8, 0x11000 | 7);
        mem.write(0x11000, 8, 0x12000 | 7);
        for (int i = 0; i < 16; i++) mem.write(0x12000 + i * 8L, 8, (i * 0x200000L) | 0x87);
        TestMachine.longMode(cpu, PML4, 0x08, 0x10, 0);
        cpu.s.gdtBase = GDT;
        cpu.s.gdtLimit = 0x3F;
        cpu.s.idtBase = IDT;
        cpu.s.idtLimit = 256 * 16 - 1;
        cpu.system.segments.loadTaskRegister(0x30);
        for (int v = 0; v < 32; v++) gate64(v, HANDLER + v * 0x10, 0xE, 0, 0, true);
    }

    void toUser64() {
        CpuState s = cpu.s;
        s.segSelector[CpuState.CS] = 0x2B;
        s.segAttr[CpuState.CS] |= 3 << 5;
        s.segSelector[CpuState.SS] = 0x23;
        s.segAttr[CpuState.SS] |= 3 << 5;
        s.cpl = 3;
        s.gpr[CpuState.RSP] = 0x70000;
        s.rip = 0x401000;
        cpu.setRflags(0x202 | Rflags.CF);
    }

    @Test
    void pageFaultFromRing3SwitchesToRsp0() {
        longModeKernel();
        toUser64();
        cpu.interrupts.deliverException(CpuException.PF, 6, 0xDEAD000L);
        CpuState s = cpu.s;
        assertEquals(0, s.cpl);
        assertEquals(0x08, s.segSelector[CpuState.CS]);
        assertEquals(HANDLER + 14 * 0x10, s.rip);
        assertEquals(0xDEAD000L, s.cr2);
        assertEquals(RSP0 - 48, s.gpr[CpuState.RSP]);
        long sp = s.gpr[CpuState.RSP];
        assertEquals(6, mem.read(sp, 8), "error code");
        assertEquals(0x401000, mem.read(sp + 8, 8), "RIP");
        assertEquals(0x2B, mem.read(sp + 16, 8), "CS");
        // A fault's frame carries RF (SDM Vol. 3B §17.3.1.1), so IRETQ's restart of it skips an instruction breakpoint.
        assertEquals(0x203 | Rflags.RF, mem.read(sp + 24, 8), "RFLAGS");
        assertEquals(0x70000, mem.read(sp + 32, 8), "RSP");
        assertEquals(0x23, mem.read(sp + 40, 8), "SS");
        assertEquals(0, s.segSelector[CpuState.SS], "SS is null with RPL 0");
        assertEquals(0, cpu.rflags() & Rflags.IF, "interrupt gate clears IF");

        // IRETQ back to ring 3 after popping the error code.
        s.gpr[CpuState.RSP] += 8;
        cpu.interrupts.iret(8);
        assertEquals(3, s.cpl);
        assertEquals(0x2B, s.segSelector[CpuState.CS]);
        assertEquals(0x23, s.segSelector[CpuState.SS]);
        assertEquals(0x401000, s.rip);
        assertEquals(0x70000, s.gpr[CpuState.RSP]);
        assertEquals(0x203 | Rflags.RF, cpu.rflags(), "RF restored by IRETQ, until the next instruction");
    }

    @Test
    void istStackAndAlignment() {
        longModeKernel();
        gate64(2, HANDLER, 0xE, 0, 1, true);
        cpu.s.gpr[CpuState.RSP] = 0x80008; // same privilege, but IST always switches
        cpu.s.rip = 0x1234;
        cpu.interrupts.deliverEvent(CpuException.NMI, InterruptDelivery.NMI_EVENT);
        assertEquals(IST1 - 40, cpu.s.gpr[CpuState.RSP]);
        assertEquals(0x80008, mem.read(IST1 - 16, 8), "old RSP");
        assertEquals(0x10, mem.read(IST1 - 8, 8), "old SS");
        assertEquals(0x1234, mem.read(IST1 - 40, 8), "RIP, no error code");
        // Same privilege without IST: the frame is 16-byte aligned below the current RSP.
        gate64(0x20, HANDLER + 0x200, 0xE, 0, 0, true);
        cpu.s.gpr[CpuState.RSP] = 0x80008;
        cpu.interrupts.deliverEvent(0x20, InterruptDelivery.EXTERNAL);
        assertEquals(HANDLER + 0x200, cpu.s.rip);
        assertEquals(0x80000 - 40, cpu.s.gpr[CpuState.RSP]);
    }

    @Test
    void contributoryDuringPageFaultDeliveryIsDoubleFault() {
        longModeKernel();
        gate64(14, HANDLER, 0xE, 0, 0, false); // #PF gate not present -> #NP while delivering #PF
        cpu.s.gpr[CpuState.RSP] = 0x80000;
        cpu.interrupts.deliverException(CpuException.PF, 2, 0x5000_0000L);
        assertEquals(HANDLER + 8 * 0x10, cpu.s.rip, "#DF handler");
        assertEquals(0, mem.read(cpu.s.gpr[CpuState.RSP], 8), "#DF error code 0");
        assertEquals(0x5000_0000L, cpu.s.cr2);
    }

    @Test
    void pageFaultWhileDeliveringGpIsSerialButFaultDuringDoubleFaultShutsDown() {
        longModeKernel();
        // #GP with an unmapped stack: #PF during #GP delivery is #DF (contributory then page fault? no: GP then PF is benign -> serial).
        cpu.s.gpr[CpuState.RSP] = 0x4000_0000L; // above the 32 MiB mapped: frame writes fault
        cpu.interrupts.deliverException(CpuException.GP, 0, 0);
        // GP followed by PF: Table 6-5 says contributory + page fault = handle serially: #PF, whose delivery faults again -> #DF -> same stack -> triple fault.
        assertEquals(CpuState.Activity.SHUTDOWN, cpu.s.activity);
        assertEquals(CpuExit.Kind.SHUTDOWN, cpu.exit.kind);
        CpuExit exit = cpu.run();
        assertEquals(CpuExit.Kind.SHUTDOWN, exit.kind);
    }

    @Test
    void tripleFaultWhenDoubleFaultGateIsMissing() {
        longModeKernel();
        gate64(13, HANDLER, 0xE, 0, 0, false);
        gate64(8, HANDLER, 0xE, 0, 0, false);
        cpu.s.gpr[CpuState.RSP] = 0x80000;
        cpu.interrupts.deliverException(CpuException.GP, 0, 0);
        assertEquals(CpuState.Activity.SHUTDOWN, cpu.s.activity);
    }

    @Test
    void softwareInterruptChecksGateDpl() {
        longModeKernel();
        toUser64();
        CpuException e = assertThrows(CpuException.class, () -> cpu.interrupts.softwareInterrupt(0x80, InterruptDelivery.SOFTWARE));
        assertEquals(CpuException.GP, e.vector);
        assertEquals(0x80 * 8 + 2, e.errorCode);
        gate64(0x80, HANDLER, 0xF, 3, 0, true);
        cpu.interrupts.softwareInterrupt(0x80, InterruptDelivery.SOFTWARE);
        assertEquals(0, cpu.s.cpl);
        assertEquals(Rflags.IF, cpu.rflags() & Rflags.IF, "trap gate keeps IF");
    }

    @Test
    void protectedModeGateWithPrivilegeChange() {
        // GDT: 0x08 code32 dpl0, 0x10 data dpl0, 0x18 code32 dpl3, 0x20 data dpl3, 0x28 TSS32.
        mem.write(GDT + 0x08, 8, TestMachine.code32(0));
        mem.write(GDT + 0x10, 8, TestMachine.data(0));
        mem.write(GDT + 0x18, 8, TestMachine.code32(3));
        mem.write(GDT + 0x20, 8, TestMachine.data(3));
        mem.write(GDT + 0x28, 8, TestMachine.descriptor(TSS, 0x67, 0x9, 0, false, false, false, false));
        mem.write(TSS + 4, 4, 0x80000);
        mem.write(TSS + 8, 4, 0x10);
        long gate = (HANDLER & 0xFFFF) | (0x08L << 16) | (0xEL << 40) | (1L << 47) | ((HANDLER >>> 16) << 48);
        mem.write(IDT + 13 * 8, 8, gate);
        TestMachine.protected32(cpu, 0x1B, 0x23, 3);
        cpu.s.gdtBase = GDT;
        cpu.s.gdtLimit = 0x2F;
        cpu.s.idtBase = IDT;
        cpu.s.idtLimit = 0x7FF;
        cpu.system.segments.loadTaskRegister(0x28);
        cpu.s.gpr[CpuState.RSP] = 0x7000;
        cpu.s.rip = 0x1000;
        cpu.setRflags(0x202);
        cpu.interrupts.deliverException(CpuException.GP, 0x18, 0);
        CpuState s = cpu.s;
        assertEquals(0, s.cpl);
        assertEquals(0x10, s.segSelector[CpuState.SS]);
        assertEquals(0x80000 - 24, s.gpr[CpuState.RSP]);
        long sp = s.gpr[CpuState.RSP];
        assertEquals(0x18, mem.read(sp, 4));
        assertEquals(0x1000, mem.read(sp + 4, 4));
        assertEquals(0x1B, mem.read(sp + 8, 4));
        assertEquals(0x202 | Rflags.RF, mem.read(sp + 12, 4), "a fault's frame carries RF");
        assertEquals(0x7000, mem.read(sp + 16, 4));
        assertEquals(0x23, mem.read(sp + 20, 4));
        assertEquals(HANDLER, s.rip);
        // IRETD back to ring 3.
        s.gpr[CpuState.RSP] += 4;
        cpu.interrupts.iret(4);
        assertEquals(3, s.cpl);
        assertEquals(0x7000, s.gpr[CpuState.RSP]);
        assertEquals(0x23, s.segSelector[CpuState.SS]);
        assertEquals(0x1000, s.rip);
    }

    @Test
    void realModeIvt() {
        CpuState s = cpu.s;
        s.cr0 = 0x10;
        s.idtBase = 0;
        s.idtLimit = 0x3FF;
        mem.write(8 * 4, 4, (0x1234L << 16) | 0x5678);
        cpu.system.segments.loadReal(CpuState.CS, 0x100);
        cpu.system.segments.loadReal(CpuState.SS, 0);
        s.gpr[CpuState.RSP] = 0x7000;
        s.rip = 0x20;
        cpu.setRflags(0x202);
        cpu.interrupts.deliverEvent(8, InterruptDelivery.EXTERNAL);
        assertEquals(0x1234, s.segSelector[CpuState.CS]);
        assertEquals(0x12340, s.segBase[CpuState.CS]);
        assertEquals(0x5678, s.rip);
        assertEquals(0x6FFA, s.gpr[CpuState.RSP]);
        assertEquals(0x20, mem.read(0x6FFA, 2));
        assertEquals(0x100, mem.read(0x6FFC, 2));
        assertEquals(0x202, mem.read(0x6FFE, 2));
        assertEquals(0, cpu.rflags() & Rflags.IF);
        cpu.interrupts.iret(2);
        assertEquals(0x100, s.segSelector[CpuState.CS]);
        assertEquals(0x20, s.rip);
        assertEquals(0x7000, s.gpr[CpuState.RSP]);
        assertEquals(Rflags.IF, cpu.rflags() & Rflags.IF);
    }
}
