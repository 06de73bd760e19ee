package dev.jkvm.vmm.emulated.cpu;

/**
 * Processor states the CPU starts in: RESET (SDM Vol. 3 §9.1.1, Table 9-1), INIT (the same for
 * the registers Table 9-1 lists, MSRs kept except as §9.1 says), the SIPI start of an AP
 * (§8.4.4.1: real mode at vector * 4096, as KVM's {@code kvm_vcpu_deliver_sipi_vector}), and the
 * Multiboot 0.6.96 §3.2 handoff state.
 */
final class PowerOn {
    private PowerOn() {}

    /** Data segment attributes: present, read/write, accessed (type 3), S = 1 (Table 9-1 "AR"). */
    static final int ATTR_DATA16 = 0x3 | CpuState.ATTR_S | CpuState.ATTR_P;
    /** Code segment attributes at reset: present, execute/read, accessed (type 0xB). */
    static final int ATTR_CODE16 = 0xB | CpuState.ATTR_S | CpuState.ATTR_P;

    static void reset(X86Cpu cpu) {
        CpuState s = cpu.s;
        s.efer = 0;
        s.star = s.lstar = s.cstar = s.fmask = s.kernelGsBase = s.tscAux = 0;
        s.pat = 0x0007_0406_0007_0406L;
        s.sysenterCs = s.sysenterEsp = s.sysenterEip = 0;
        s.miscEnable = 1;
        s.tscOffset = 0;
        init(cpu);
    }

    /** INIT: Table 9-1 registers; the BSP (vCPU 0) runs from the reset vector, APs wait for SIPI (as KVM). */
    static void init(X86Cpu cpu) {
        CpuState s = cpu.s;
        java.util.Arrays.fill(s.gpr, 0);
        // EDX = processor signature (CPUID.1:EAX), Table 9-1.
        if (cpu.cpuid != null) {
            int[] out = new int[4];
            cpu.cpuid.cpuid(cpu.index, 1, 0, out);
            s.gpr[CpuState.RDX] = out[0] & 0xFFFF_FFFFL;
        }
        s.rip = 0xFFF0;
        cpu.setRflags(0x2);
        s.cr0 = 0x6000_0010L;
        s.cr2 = s.cr3 = s.cr4 = 0;
        s.efer = 0; // as KVM's kvm_vcpu_reset for INIT too (CR0.PG = 0 leaves no use for LME/LMA)
        for (int seg = CpuState.ES; seg <= CpuState.GS; seg++) {
            s.segSelector[seg] = 0;
            s.segBase[seg] = 0;
            s.segLimit[seg] = 0xFFFF;
            s.segAttr[seg] = ATTR_DATA16;
        }
        s.segSelector[CpuState.CS] = 0xF000;
        s.segBase[CpuState.CS] = 0xFFFF_0000L;
        s.segAttr[CpuState.CS] = ATTR_CODE16;
        s.segSelector[CpuState.LDTR] = 0;
        s.segBase[CpuState.LDTR] = 0;
        s.segLimit[CpuState.LDTR] = 0xFFFF;
        s.segAttr[CpuState.LDTR] = 0x2 | CpuState.ATTR_P;
        s.segSelector[CpuState.TR] = 0;
        s.segBase[CpuState.TR] = 0;
        s.segLimit[CpuState.TR] = 0xFFFF;
        s.segAttr[CpuState.TR] = 0xB | CpuState.ATTR_P;
        s.gdtBase = s.idtBase = 0;
        s.gdtLimit = s.idtLimit = 0xFFFF;
        java.util.Arrays.fill(s.dr, 0);
        s.dr[6] = 0xFFFF_0FF0L;
        s.dr[7] = 0x400;
        s.cpl = 0;
        s.interruptShadow = false;
        s.nmiBlocked = false;
        java.util.Arrays.fill(s.xmm, 0);
        s.mxcsr = 0x1F80;
        s.fpuControl = 0x037F;
        s.fpuStatus = 0;
        s.fpuTagWord = 0;
        s.activity = cpu.index == 0 ? CpuState.Activity.RUNNING : CpuState.Activity.WAIT_FOR_SIPI;
        cpu.mmu.flush(true);
    }

    /** SIPI with {@code vector}: real mode, CS = vector << 8, base vector << 12, IP 0 (SDM §8.4.4.1, §10.6.1 "Start-Up"). */
    static void sipi(X86Cpu cpu, int vector) {
        CpuState s = cpu.s;
        vector &= 0xFF;
        s.segSelector[CpuState.CS] = vector << 8;
        s.segBase[CpuState.CS] = (long) vector << 12;
        s.segLimit[CpuState.CS] = 0xFFFF;
        s.segAttr[CpuState.CS] = ATTR_CODE16;
        s.rip = 0;
        s.activity = CpuState.Activity.RUNNING;
    }

    /** Multiboot 0.6.96 §3.2: flat 4 GiB CS (0x08) and data segments (0x10), CR0 = PE | ET, paging off, IF = 0. */
    static void multiboot(X86Cpu cpu, long entry, long info) {
        CpuState s = cpu.s;
        s.cr0 = 0x11;
        s.cr4 = 0;
        s.efer = 0;
        int code = 0xB | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_DB | CpuState.ATTR_G;
        int data = 0x3 | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_DB | CpuState.ATTR_G;
        for (int seg = CpuState.ES; seg <= CpuState.GS; seg++) {
            s.segSelector[seg] = seg == CpuState.CS ? 0x08 : 0x10;
            s.segBase[seg] = 0;
            s.segLimit[seg] = 0xFFFF_FFFFL;
            s.segAttr[seg] = seg == CpuState.CS ? code : data;
        }
        s.cpl = 0;
        java.util.Arrays.fill(s.gpr, 0);
        s.gpr[CpuState.RAX] = 0x2BAD_B002L;
        s.gpr[CpuState.RBX] = info;
        s.rip = entry;
        cpu.setRflags(0x2);
        s.activity = CpuState.Activity.RUNNING;
        cpu.mmu.flush(true);
    }
}
