package dev.jkvm.vmm.emulated.cpu;

/**
 * RDMSR/WRMSR (SDM Vol. 4 for the MSR numbers, Vol. 2B RDMSR/WRMSR): the MSRs the CPU holds in
 * {@link CpuState}, the APIC base, TSC deadline and x2APIC range delegated to the LAPIC, and the
 * TSC through {@link CpuState#tscOffset}. Any other MSR raises #GP(0), as on hardware for an MSR
 * the model does not implement.
 */
public final class Msrs {
    public static final int TSC = 0x10, APIC_BASE = 0x1B, FEATURE_CONTROL = 0x3A, TSC_ADJUST = 0x3B,
            SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176, MISC_ENABLE = 0x1A0, PAT = 0x277,
            TSC_DEADLINE = 0x6E0, X2APIC_FIRST = 0x800, X2APIC_LAST = 0x8FF,
            EFER = 0xC000_0080, STAR = 0xC000_0081, LSTAR = 0xC000_0082, CSTAR = 0xC000_0083, FMASK = 0xC000_0084,
            FS_BASE = 0xC000_0100, GS_BASE = 0xC000_0101, KERNEL_GS_BASE = 0xC000_0102, TSC_AUX = 0xC000_0103;

    /** EFER bits (SDM Vol. 3 §2.2.1, Table 2-1): SCE, LME, LMA (read-only), NXE. */
    public static final long EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

    private final X86Cpu cpu;
    private final CpuState s;

    Msrs(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
    }

    /** The guest's TSC now: the clock's TSC plus this vCPU's offset. */
    public long tsc() { return cpu.clock.tscAt(cpu.clock.nanos()) + s.tscOffset; }

    /** RDMSR; throws #GP(0) for an MSR not implemented or not readable now. */
    public long read(int msr) {
        switch (msr) {
            case TSC: return tsc();
            case APIC_BASE: return cpu.apic != null ? cpu.apic.apicBase() : 0xFEE0_0000L | (cpu.index == 0 ? 0x900 : 0x800);
            case FEATURE_CONTROL: return 1; // locked, VMX off (SDM Vol. 4 Table 2-2)
            case TSC_ADJUST: return s.tscOffset;
            case SYSENTER_CS: return s.sysenterCs;
            case SYSENTER_ESP: return s.sysenterEsp;
            case SYSENTER_EIP: return s.sysenterEip;
            case MISC_ENABLE: return s.miscEnable;
            case PAT: return s.pat;
            case EFER: return s.efer;
            case STAR: return s.star;
            case LSTAR: return s.lstar;
            case CSTAR: return s.cstar;
            case FMASK: return s.fmask;
            case FS_BASE: return s.segBase[CpuState.FS];
            case GS_BASE: return s.segBase[CpuState.GS];
            case KERNEL_GS_BASE: return s.kernelGsBase;
            case TSC_AUX: return s.tscAux;
            default:
                if ((msr == TSC_DEADLINE || (msr >= X2APIC_FIRST && msr <= X2APIC_LAST)) && cpu.apic != null) {
                    Long v = cpu.apic.readMsr(msr);
                    if (v != null) return v;
                }
                throw cpu.ex.raise(CpuException.GP, 0);
        }
    }

    /** WRMSR; throws #GP(0) for an unknown MSR, a reserved bit or a non-canonical base. */
    public void write(int msr, long value) {
        CpuException ex = cpu.ex;
        switch (msr) {
            case TSC -> s.tscOffset = value - cpu.clock.tscAt(cpu.clock.nanos());
            case TSC_ADJUST -> s.tscOffset = value;
            case APIC_BASE -> {
                if (cpu.apic == null || !cpu.apic.setApicBase(value)) throw ex.raise(CpuException.GP, 0);
            }
            case FEATURE_CONTROL -> throw ex.raise(CpuException.GP, 0); // locked
            case SYSENTER_CS -> s.sysenterCs = value & 0xFFFF_FFFFL;
            case SYSENTER_ESP -> s.sysenterEsp = canonical(value);
            case SYSENTER_EIP -> s.sysenterEip = canonical(value);
            case MISC_ENABLE -> s.miscEnable = value;
            case PAT -> {
                // Each byte a memory type 0, 1, 4, 5, 6 or 7 (SDM Vol. 3 §11.12.2).
                for (int i = 0; i < 8; i++) {
                    int t = (int) (value >>> (8 * i)) & 0xFF;
                    if (t == 2 || t == 3 || t > 7) throw ex.raise(CpuException.GP, 0);
                }
                s.pat = value;
            }
            case EFER -> writeEfer(value);
            case STAR -> s.star = value;
            case LSTAR -> s.lstar = canonical(value);
            case CSTAR -> s.cstar = canonical(value);
            case FMASK -> s.fmask = value & 0xFFFF_FFFFL;
            case FS_BASE -> s.segBase[CpuState.FS] = canonical(value);
            case GS_BASE -> s.segBase[CpuState.GS] = canonical(value);
            case KERNEL_GS_BASE -> s.kernelGsBase = canonical(value);
            case TSC_AUX -> {
                if ((value >>> 32) != 0) throw ex.raise(CpuException.GP, 0);
                s.tscAux = value;
            }
            default -> {
                if ((msr == TSC_DEADLINE || (msr >= X2APIC_FIRST && msr <= X2APIC_LAST)) && cpu.apic != null
                        && cpu.apic.writeMsr(msr, value)) {
                    return;
                }
                throw ex.raise(CpuException.GP, 0);
            }
        }
    }

    private long canonical(long v) {
        if (!Mmu.canonical(v)) throw cpu.ex.raise(CpuException.GP, 0);
        return v;
    }

    /** EFER: SCE, LME, NXE writable; LMA read-only; LME may not change while paging is on (SDM Vol. 3 §9.8.5). */
    private void writeEfer(long value) {
        if ((value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) != 0) throw cpu.ex.raise(CpuException.GP, 0);
        if ((s.cr0 & Mmu.CR0_PG) != 0 && ((value ^ s.efer) & EFER_LME) != 0) throw cpu.ex.raise(CpuException.GP, 0);
        long old = s.efer;
        s.efer = (value & ~EFER_LMA) | (old & EFER_LMA);
        if (((old ^ s.efer) & EFER_NXE) != 0) cpu.mmu.flush(true);
    }
}
