package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.cpu.BootCpuState;
import dev.jkvm.vmm.cpu.CpuidTable;
import dev.jkvm.vmm.cpu.MsrSetup;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.DescriptorTable;
import dev.jkvm.vmm.vcpu.MpState;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Segment;
import dev.jkvm.vmm.vcpu.Sregs;
import dev.jkvm.vmm.vcpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The emulated vCPU through the seam: state set is state read back, as KVM_SET/GET_* promise. */
class EmulatedVcpuStateTest {
    private static EmulatedMachine machineWithRam(Arena arena) {
        EmulatedMachine m = EmulatedMachine.create();
        GuestMemory mem = new GuestMemory();
        mem.addRegion(0, arena.allocate(1 << 20, 4096));
        m.mapMemory(mem);
        return m;
    }

    @Test
    void registersRoundTrip() {
        try (Arena arena = Arena.ofConfined(); EmulatedMachine m = machineWithRam(arena)) {
            Vcpu v = m.createVcpu(0);
            Regs r = new Regs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x1234, 0x2 | 0x1 | 0x40 | 0x200);
            v.setRegs(r);
            assertEquals(r, v.regs());
        }
    }

    @Test
    void segmentsControlRegistersAndTablesRoundTrip() {
        try (Arena arena = Arena.ofConfined(); EmulatedMachine m = machineWithRam(arena)) {
            Vcpu v = m.createVcpu(0);
            Sregs reset = v.sregs();
            Segment code64 = new Segment(0, 0xFFFF_FFFF, 0x08, 0xB, true, 0, false, true, true, true, false, false);
            Segment user = new Segment(0x1000, 0xFFFFF, 0x23, 0x3, true, 3, true, true, false, false, true, false);
            Segment tss = new Segment(0x5000, 0x67, 0x28, 0xB, true, 0, false, false, false, false, false, false);
            Sregs s = new Sregs(code64, user, user, user, user, user, tss, reset.ldt(),
                    new DescriptorTable(0x7000, 0x3F), new DescriptorTable(0x8000, 0xFFF),
                    0x8001_0033L, 0, 0x9000, 0x20 | 0x80, 0, 0x500, reset.apicBase(), Sregs.noPendingInterrupts());
            v.setSregs(s);
            Sregs back = v.sregs();
            assertEquals(code64, back.cs());
            assertEquals(user, back.ds());
            assertEquals(user, back.ss());
            assertEquals(tss, back.tr());
            assertEquals(s.gdt(), back.gdt());
            assertEquals(s.idt(), back.idt());
            assertEquals(s.cr0(), back.cr0());
            assertEquals(s.cr3(), back.cr3());
            assertEquals(s.cr4(), back.cr4());
            assertEquals(s.efer(), back.efer());
        }
    }

    @Test
    void bootStateIsTheMultibootOne() {
        try (Arena arena = Arena.ofConfined(); EmulatedMachine m = machineWithRam(arena)) {
            Vcpu v = m.createVcpu(0);
            v.setSregs(BootCpuState.sregs(v.sregs()));
            v.setRegs(BootCpuState.regs(0x100000, 0x9000));
            Sregs s = v.sregs();
            assertEquals(BootCpuState.flatCode(), s.cs());
            assertEquals(BootCpuState.flatData(), s.ds());
            assertEquals(BootCpuState.CR0_PE | BootCpuState.CR0_ET, s.cr0());
            // IA32_APIC_BASE of the BSP: 0xFEE00000, enabled (bit 11), BSP (bit 8) (SDM Vol. 3 §10.4.4).
            assertEquals(0xFEE0_0900L, s.apicBase());
            assertEquals(0x2BAD_B002L, v.regs().rax());
        }
    }

    @Test
    void apsWaitForSipiAndMsrsGoThroughTheCpu() {
        try (Arena arena = Arena.ofConfined(); EmulatedMachine m = machineWithRam(arena)) {
            Vcpu bsp = m.createVcpu(0);
            Vcpu ap = m.createVcpu(1);
            assertEquals(MpState.RUNNABLE, bsp.mpState());
            assertEquals(MpState.UNINITIALIZED, ap.mpState());
            ap.setMsrs(MsrSetup.initial());
            assertEquals(MsrSetup.PAT_POWER_ON, ap.msr(MsrSetup.IA32_PAT));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ap.setMsrs(java.util.Map.of(MsrSetup.IA32_PAT, 0x0202_0202_0202_0202L)));
            assertTrue(e.getMessage().contains("MSR 0x277"), e.getMessage());
        }
    }

    @Test
    void cpuidAnswersFromThePerVcpuTable() {
        try (Arena arena = Arena.ofConfined(); EmulatedMachine m = machineWithRam(arena)) {
            EmulatedVcpu v = (EmulatedVcpu) m.createVcpu(0);
            EmulatedVcpu w = (EmulatedVcpu) m.createVcpu(1);
            CpuidTable table = new CpuidTable(m.supportedCpuid(), 2);
            v.setCpuid(table.forVcpu(0));
            w.setCpuid(table.forVcpu(1));
            int[] out = new int[4];
            w.cpu().cpuid.cpuid(1, 1, 0, out);
            assertEquals(1, out[1] >>> 24, "leaf 1 EBX[31:24] is the initial APIC ID");
            w.cpu().cpuid.cpuid(1, 0xB, 0, out);
            assertEquals(1, out[3], "leaf 0xB EDX is the x2APIC ID");
        }
    }
}
