package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.emulated.cpu.CpuState;
import dev.jkvm.vmm.emulated.cpu.X86Cpu;
import dev.jkvm.vmm.emulated.irq.LocalApic;
import dev.jkvm.vmm.vcpu.DescriptorTable;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Segment;
import dev.jkvm.vmm.vcpu.Sregs;

/**
 * Between {@link CpuState}'s plain fields and the seam's register records. Segment attributes are
 * packed in CpuState as bits 8..23 of a descriptor's high dword shifted down by 8 (SDM Vol. 3
 * Figure 3-8): type[3:0], S[4], DPL[6:5], P[7], AVL[12], L[13], D/B[14], G[15], plus bit 16 for
 * an unusable register; the records hold them unpacked, as KVM's struct kvm_segment does.
 */
final class CpuStateMapping {
    private CpuStateMapping() {}

    private static final int ATTR_AVL = 1 << 12;

    static Regs regs(X86Cpu cpu) {
        long[] g = cpu.s.gpr;
        return new Regs(g[CpuState.RAX], g[CpuState.RBX], g[CpuState.RCX], g[CpuState.RDX], g[CpuState.RSI], g[CpuState.RDI],
                g[CpuState.RSP], g[CpuState.RBP], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15],
                cpu.s.rip, cpu.rflags());
    }

    static void setRegs(X86Cpu cpu, Regs r) {
        long[] g = cpu.s.gpr;
        g[CpuState.RAX] = r.rax();
        g[CpuState.RBX] = r.rbx();
        g[CpuState.RCX] = r.rcx();
        g[CpuState.RDX] = r.rdx();
        g[CpuState.RSI] = r.rsi();
        g[CpuState.RDI] = r.rdi();
        g[CpuState.RSP] = r.rsp();
        g[CpuState.RBP] = r.rbp();
        g[8] = r.r8();
        g[9] = r.r9();
        g[10] = r.r10();
        g[11] = r.r11();
        g[12] = r.r12();
        g[13] = r.r13();
        g[14] = r.r14();
        g[15] = r.r15();
        cpu.s.rip = r.rip();
        cpu.setRflags(r.rflags());
    }

    static Sregs sregs(X86Cpu cpu, LocalApic apic) {
        CpuState s = cpu.s;
        return new Sregs(segment(s, CpuState.CS), segment(s, CpuState.DS), segment(s, CpuState.ES), segment(s, CpuState.FS),
                segment(s, CpuState.GS), segment(s, CpuState.SS), segment(s, CpuState.TR), segment(s, CpuState.LDTR),
                new DescriptorTable(s.gdtBase, s.gdtLimit), new DescriptorTable(s.idtBase, s.idtLimit),
                s.cr0, s.cr2, s.cr3, s.cr4, apic == null ? 0 : apic.cr8(), s.efer, apic == null ? 0 : apic.apicBase(),
                Sregs.noPendingInterrupts());
    }

    /** Sets the special registers as KVM_SET_SREGS does, then drops the CPU's cached translations. */
    static void setSregs(X86Cpu cpu, LocalApic apic, Sregs r) {
        CpuState s = cpu.s;
        setSegment(s, CpuState.CS, r.cs());
        setSegment(s, CpuState.DS, r.ds());
        setSegment(s, CpuState.ES, r.es());
        setSegment(s, CpuState.FS, r.fs());
        setSegment(s, CpuState.GS, r.gs());
        setSegment(s, CpuState.SS, r.ss());
        setSegment(s, CpuState.TR, r.tr());
        setSegment(s, CpuState.LDTR, r.ldt());
        s.gdtBase = r.gdt().base();
        s.gdtLimit = r.gdt().limit();
        s.idtBase = r.idt().base();
        s.idtLimit = r.idt().limit();
        s.cr0 = r.cr0();
        s.cr2 = r.cr2();
        s.cr3 = r.cr3();
        s.cr4 = r.cr4();
        s.efer = r.efer();
        if (apic != null) {
            apic.setCr8(r.cr8());
            if (r.apicBase() != 0 && r.apicBase() != apic.apicBase() && !apic.setApicBase(r.apicBase())) {
                throw new IllegalArgumentException("emulated cpu " + cpu.index + ": APIC base 0x" + Long.toHexString(r.apicBase()) + " refused");
            }
        }
        cpu.stateChanged();
    }

    static Segment segment(CpuState s, int i) {
        int a = s.segAttr[i];
        return new Segment(s.segBase[i], (int) s.segLimit[i], s.segSelector[i], a & 0xF, (a & CpuState.ATTR_P) != 0,
                (a >>> 5) & 3, (a & CpuState.ATTR_DB) != 0, (a & CpuState.ATTR_S) != 0, (a & CpuState.ATTR_L) != 0,
                (a & CpuState.ATTR_G) != 0, (a & ATTR_AVL) != 0, (a & CpuState.ATTR_UNUSABLE) != 0);
    }

    static void setSegment(CpuState s, int i, Segment g) {
        s.segBase[i] = g.base();
        s.segLimit[i] = Integer.toUnsignedLong(g.limit());
        s.segSelector[i] = g.selector() & 0xFFFF;
        s.segAttr[i] = (g.type() & 0xF) | (g.s() ? CpuState.ATTR_S : 0) | ((g.dpl() & 3) << 5) | (g.present() ? CpuState.ATTR_P : 0)
                | (g.avl() ? ATTR_AVL : 0) | (g.l() ? CpuState.ATTR_L : 0) | (g.db() ? CpuState.ATTR_DB : 0)
                | (g.g() ? CpuState.ATTR_G : 0) | (g.unusable() ? CpuState.ATTR_UNUSABLE : 0);
    }
}
