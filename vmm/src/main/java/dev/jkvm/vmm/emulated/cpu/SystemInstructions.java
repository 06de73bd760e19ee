package dev.jkvm.vmm.emulated.cpu;

/**
 * System instructions: everything that touches segmentation, control registers, MSRs, interrupts,
 * privilege, I/O or halting (the list in the emulated CPU's design notes). The executor hands any
 * instruction whose handler is {@code SYSTEM} here whole.
 *
 * <p>Contract: called with {@code cpu.s.rip} already pointing past the instruction; throws
 * {@link CpuException} with RIP restored by the caller; ends the current decoded block (the
 * executor returns to the run loop after it when an event is posted), so mode, paging or
 * interrupt-flag changes take effect for the next instruction.
 */
public class SystemInstructions {
    private final X86Cpu cpu;
    private final CpuState s;
    private final CpuException ex;
    private final Mmu mmu;
    final Segments segments;
    public final Msrs msrs;
    private final int[] cpuidOut = new int[4];

    static final long CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 16, CR0_NE = 32, CR0_NW = 1L << 29, CR0_CD = 1L << 30;
    /** CR4 bits this CPU accepts (SDM Vol. 3 §2.5): VME..OSXMMEXCPT, UMIP, SMEP, SMAP; FSGSBASE, OSXSAVE, PCIDE, LA57, VMXE are not implemented, so setting them is #GP(0) as for an absent feature. */
    static final long CR4_VALID = 0x7FFL | (1L << 11) | (1L << 20) | (1L << 21);
    static final long CR4_TSD = 4, CR4_DE = 8, CR4_UMIP = 1L << 11;

    public SystemInstructions(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        this.ex = cpu.ex;
        this.mmu = cpu.mmu;
        this.segments = new Segments(cpu);
        this.msrs = new Msrs(cpu);
    }

    private CpuException ud() { return ex.raise(CpuException.UD, CpuException.NO_ERROR_CODE); }

    /**
     * A valid instruction the emulator does not implement (nor CPUID advertise): #UD as on a
     * processor without it, plus the counted record the VMM prints in its summary (issue 11 §2,
     * "anything else"), as the executor does for the opcodes it lacks. RIP is already past it.
     */
    private CpuException unimplemented(Insn insn) {
        cpu.executor.unimplemented().record(insn, (s.rip - insn.length) & Executor.ripMask(insn.mode));
        return ud();
    }

    /**
     * 0F 01 with mod = 11b (SDM Vol. 2 Table A-6, group 7) that name instructions of features not
     * implemented: VMX (ENCLV, VMCALL, VMLAUNCH, VMRESUME, VMXOFF, PCONFIG), MONITOR/MWAIT, ENCLS,
     * XGETBV/XSETBV, VMFUNC, XEND/XTEST, ENCLU, SVM (VMRUN ... INVLPGA), SERIALIZE, RDPKRU/WRPKRU,
     * MONITORX/MWAITX/CLZERO/RDPRU. Reserved encodings stay plain #UD.
     */
    private static boolean knownGroup7(int reg, int rm) {
        return switch (reg) {
            case 0 -> rm <= 5;
            case 1 -> rm == 0 || rm == 1 || rm == 7;
            case 2 -> rm != 2 && rm != 3;
            case 3 -> true;
            case 5 -> rm == 0 || rm == 6 || rm == 7;
            case 7 -> rm >= 2 && rm <= 5;
            default -> false;
        };
    }

    private CpuException gp0() { return ex.raise(CpuException.GP, 0); }

    private boolean protectedMode() { return (s.cr0 & Mmu.CR0_PE) != 0; }

    private void requireCpl0() { if (s.cpl != 0) throw gp0(); }

    public void execute(X86Cpu cpu, Insn insn) {
        switch (insn.opcode) {
            case 0x120 -> movFromCr(insn);
            case 0x122 -> movToCr(insn);
            case 0x121 -> movFromDr(insn);
            case 0x123 -> movToDr(insn);
            case 0x100 -> group6(insn);
            case 0x101 -> group7(insn);
            case 0x102, 0x103 -> larLsl(insn);
            case 0x106 -> { requireCpl0(); s.cr0 &= ~CR0_TS; }
            case 0x08C -> movFromSreg(insn);
            case 0x08E -> movToSreg(insn);
            case 0x006 -> pushSreg(insn, CpuState.ES);
            case 0x00E -> pushSreg(insn, CpuState.CS);
            case 0x016 -> pushSreg(insn, CpuState.SS);
            case 0x01E -> pushSreg(insn, CpuState.DS);
            case 0x1A0 -> pushSreg(insn, CpuState.FS);
            case 0x1A8 -> pushSreg(insn, CpuState.GS);
            case 0x007 -> popSreg(insn, CpuState.ES);
            case 0x017 -> popSreg(insn, CpuState.SS);
            case 0x01F -> popSreg(insn, CpuState.DS);
            case 0x1A1 -> popSreg(insn, CpuState.FS);
            case 0x1A9 -> popSreg(insn, CpuState.GS);
            case 0x0C4 -> loadFarPointer(insn, CpuState.ES);
            case 0x0C5 -> loadFarPointer(insn, CpuState.DS);
            case 0x1B2 -> loadFarPointer(insn, CpuState.SS);
            case 0x1B4 -> loadFarPointer(insn, CpuState.FS);
            case 0x1B5 -> loadFarPointer(insn, CpuState.GS);
            case 0x0EA -> {
                if (mmu.is64()) throw ud();
                farJump((int) insn.imm2 & 0xFFFF, insn.imm, insn.opSize);
            }
            case 0x09A -> {
                if (mmu.is64()) throw ud();
                farCall((int) insn.imm2 & 0xFFFF, insn.imm, insn.opSize);
            }
            case 0x0FF -> farIndirect(insn);
            case 0x0CA -> farReturn(insn, (int) insn.imm & 0xFFFF);
            case 0x0CB -> farReturn(insn, 0);
            case 0x0CF -> cpu.interrupts.iret(insn.opSize);
            case 0x0CD -> cpu.interrupts.softwareInterrupt((int) insn.imm & 0xFF, InterruptDelivery.SOFTWARE);
            case 0x0CC -> cpu.interrupts.softwareInterrupt(CpuException.BP, InterruptDelivery.SOFTWARE_EXCEPTION);
            case 0x0CE -> {
                if (mmu.is64()) throw ud();
                if ((cpu.rflags() & Rflags.OF) != 0) cpu.interrupts.softwareInterrupt(CpuException.OF, InterruptDelivery.SOFTWARE_EXCEPTION);
            }
            case 0x0F1 -> cpu.interrupts.softwareInterrupt(CpuException.DB, InterruptDelivery.ICEBP);
            case 0x105 -> syscall();
            case 0x107 -> sysret(insn);
            case 0x1A2 -> cpuid();
            case 0x132 -> {
                requireCpl0();
                long v = msrs.read((int) s.gpr[CpuState.RCX]);
                s.gpr[CpuState.RAX] = v & 0xFFFF_FFFFL;
                s.gpr[CpuState.RDX] = v >>> 32;
            }
            case 0x130 -> {
                requireCpl0();
                msrs.write((int) s.gpr[CpuState.RCX], (s.gpr[CpuState.RDX] << 32) | (s.gpr[CpuState.RAX] & 0xFFFF_FFFFL));
                // The APIC page or x2APIC state may have changed what is pending.
                cpu.events.post(CpuEvents.SELF);
            }
            case 0x131 -> rdtsc(false);
            case 0x133 -> throw gp0(); // RDPMC: no performance counters
            case 0x0F4 -> {
                requireCpl0();
                s.activity = CpuState.Activity.HALTED;
                cpu.events.post(CpuEvents.SELF);
            }
            case 0x0FA -> {
                checkIopl();
                s.rflagsRest &= ~Rflags.IF;
            }
            case 0x0FB -> {
                checkIopl();
                if ((s.rflagsRest & Rflags.IF) == 0) {
                    s.rflagsRest |= Rflags.IF;
                    s.interruptShadow = true; // SDM Vol. 2B STI: interrupts recognized after the next instruction
                    cpu.events.post(CpuEvents.SELF);
                }
            }
            case 0x09C -> pushf(insn);
            case 0x09D -> popf(insn);
            case 0x0E4 -> in(insn, (int) insn.imm & 0xFF, 1);
            case 0x0E5 -> in(insn, (int) insn.imm & 0xFF, ioSize(insn));
            case 0x0E6 -> out(insn, (int) insn.imm & 0xFF, 1);
            case 0x0E7 -> out(insn, (int) insn.imm & 0xFF, ioSize(insn));
            case 0x0EC -> in(insn, (int) s.gpr[CpuState.RDX] & 0xFFFF, 1);
            case 0x0ED -> in(insn, (int) s.gpr[CpuState.RDX] & 0xFFFF, ioSize(insn));
            case 0x0EE -> out(insn, (int) s.gpr[CpuState.RDX] & 0xFFFF, 1);
            case 0x0EF -> out(insn, (int) s.gpr[CpuState.RDX] & 0xFFFF, ioSize(insn));
            case 0x06C -> ins(insn, 1);
            case 0x06D -> ins(insn, ioSize(insn));
            case 0x06E -> outs(insn, 1);
            case 0x06F -> outs(insn, ioSize(insn));
            case 0x108, 0x109 -> requireCpl0(); // INVD/WBINVD: no caches to write back
            case 0x134, 0x135 -> throw unimplemented(insn); // SYSENTER/SYSEXIT: not advertised (CPUID.1:EDX.SEP clear)
            default -> throw ud();
        }
    }

    // ---------------------------------------------------------------- operands

    /** Effective offset of the memory operand, masked to the address size (the ISA side's {@link Operands}). */
    long effectiveOffset(Insn insn) { return Operands.effectiveOffset(cpu, insn); }

    static long mask(long v, int size) {
        return switch (size) {
            case 1 -> v & 0xFF;
            case 2 -> v & 0xFFFF;
            case 4 -> v & 0xFFFF_FFFFL;
            default -> v;
        };
    }

    long readReg(int reg, int size) { return mask(s.gpr[reg], size); }

    /** Writes a general register as MOV does: 32-bit writes zero-extend, 16-bit writes merge (sizes 2, 4, 8 and AL only). */
    void writeReg(int reg, int size, long value) {
        switch (size) {
            case 1 -> s.gpr[reg] = (s.gpr[reg] & ~0xFFL) | (value & 0xFF);
            case 2 -> s.gpr[reg] = (s.gpr[reg] & ~0xFFFFL) | (value & 0xFFFF);
            case 4 -> s.gpr[reg] = value & 0xFFFF_FFFFL;
            default -> s.gpr[reg] = value;
        }
    }

    long readRm(Insn insn, int size) { return Operands.readRm(cpu, insn, size); }

    void writeRm(Insn insn, int size, long value) { Operands.writeRm(cpu, insn, size, value); }

    // ---------------------------------------------------------------- stack

    private long stackMask() {
        if (mmu.is64()) return -1L;
        return (s.segAttr[CpuState.SS] & CpuState.ATTR_DB) != 0 ? 0xFFFF_FFFFL : 0xFFFFL;
    }

    private void push(int size, long value) {
        long m = stackMask();
        long sp = (s.gpr[CpuState.RSP] - size) & m;
        mmu.write(CpuState.SS, sp, size, value);
        s.gpr[CpuState.RSP] = (s.gpr[CpuState.RSP] & ~m) | sp;
    }

    private long peek(int index, int size) {
        long m = stackMask();
        return mmu.read(CpuState.SS, (s.gpr[CpuState.RSP] + (long) index * size) & m, size);
    }

    private void discard(long bytes) {
        long m = stackMask();
        s.gpr[CpuState.RSP] = (s.gpr[CpuState.RSP] & ~m) | ((s.gpr[CpuState.RSP] + bytes) & m);
    }

    // ---------------------------------------------------------------- control and debug registers

    private int crSize() { return (s.efer & Mmu.EFER_LMA) != 0 && mmu.is64() ? 8 : 4; }

    private void movFromCr(Insn insn) {
        requireCpl0();
        long v = switch (insn.reg) {
            case 0 -> s.cr0;
            case 2 -> s.cr2;
            case 3 -> s.cr3;
            case 4 -> s.cr4;
            case 8 -> cpu.apic != null ? cpu.apic.cr8() : 0;
            default -> throw ud();
        };
        writeReg(insn.rm, crSize(), v);
    }

    private void movToCr(Insn insn) {
        requireCpl0();
        long v = readReg(insn.rm, crSize());
        switch (insn.reg) {
            case 0 -> writeCr0(v);
            case 2 -> s.cr2 = v;
            case 3 -> {
                if ((s.efer & Mmu.EFER_LMA) != 0 && (v >>> 52) != 0) throw gp0();
                s.cr3 = v;
                mmu.flush(false);
            }
            case 4 -> writeCr4(v);
            case 8 -> {
                if ((v & ~0xFL) != 0) throw gp0();
                if (cpu.apic != null) cpu.apic.setCr8(v);
                cpu.events.post(CpuEvents.SELF);
            }
            default -> throw ud();
        }
    }

    /** MOV to CR0 with the checks of SDM Vol. 2B MOV CR and the IA-32e activation of Vol. 3 §9.8.5. */
    void writeCr0(long v) {
        if ((v >>> 32) != 0) throw gp0();
        if ((v & Mmu.CR0_PG) != 0 && (v & Mmu.CR0_PE) == 0) throw gp0();
        if ((v & CR0_NW) != 0 && (v & CR0_CD) == 0) throw gp0();
        v |= CR0_ET;
        long old = s.cr0;
        boolean pgOn = (v & Mmu.CR0_PG) != 0 && (old & Mmu.CR0_PG) == 0;
        boolean pgOff = (v & Mmu.CR0_PG) == 0 && (old & Mmu.CR0_PG) != 0;
        if (pgOn && (s.efer & Msrs.EFER_LME) != 0) {
            if ((s.cr4 & Mmu.CR4_PAE) == 0 || (s.segAttr[CpuState.CS] & CpuState.ATTR_L) != 0) throw gp0();
            s.efer |= Msrs.EFER_LMA;
        }
        if (pgOff && (s.efer & Msrs.EFER_LMA) != 0) {
            if (mmu.is64()) throw gp0();
            s.efer &= ~Msrs.EFER_LMA;
        }
        s.cr0 = v;
        if (((old ^ v) & (Mmu.CR0_PG | Mmu.CR0_WP | Mmu.CR0_PE)) != 0) mmu.flush(true);
        if (((old ^ v) & Mmu.CR0_PE) != 0 && (v & Mmu.CR0_PE) == 0) s.cpl = 0;
    }

    void writeCr4(long v) {
        if ((v & ~CR4_VALID) != 0) throw gp0();
        if ((s.efer & Msrs.EFER_LMA) != 0 && (v & Mmu.CR4_PAE) == 0) throw gp0();
        long old = s.cr4;
        s.cr4 = v;
        if (((old ^ v) & (Mmu.CR4_PSE | Mmu.CR4_PAE | Mmu.CR4_PGE | Mmu.CR4_SMEP | Mmu.CR4_SMAP)) != 0) mmu.flush(true);
    }

    private int drIndex(int reg) {
        if (reg == 4 || reg == 5) {
            if ((s.cr4 & CR4_DE) != 0) throw ud();
            return reg + 2;
        }
        if (reg > 7) throw ud();
        return reg;
    }

    private void movFromDr(Insn insn) {
        requireCpl0();
        writeReg(insn.rm, crSize(), s.dr[drIndex(insn.reg)]);
    }

    private void movToDr(Insn insn) {
        requireCpl0();
        int i = drIndex(insn.reg);
        long v = readReg(insn.rm, crSize());
        // DR6/DR7 bits 63:32 are reserved: #GP(0) (SDM Vol. 3B §17.2.3, §17.2.4; Vol. 2B MOV DR). In legacy
        // modes DR0-DR3 hold 32-bit linear addresses.
        if (i >= 6 && (v >>> 32) != 0) throw gp0();
        s.dr[i] = i == 6 ? v | 0xFFFF_0FF0L : i == 7 ? (v | 0x400) : v;
        if (i != 6) cpu.debug.update();
    }

    // ---------------------------------------------------------------- descriptor tables (0F 00, 0F 01)

    private void umipCheck() { if ((s.cr4 & CR4_UMIP) != 0 && s.cpl > 0) throw gp0(); }

    private void group6(Insn insn) {
        if (!protectedMode()) throw ud();
        switch (insn.reg & 7) {
            case 0 -> { umipCheck(); storeSelector(insn, s.segSelector[CpuState.LDTR]); }
            case 1 -> { umipCheck(); storeSelector(insn, s.segSelector[CpuState.TR]); }
            case 2 -> { requireCpl0(); segments.loadLdt((int) readRm(insn, 2)); }
            case 3 -> { requireCpl0(); segments.loadTaskRegister((int) readRm(insn, 2)); }
            case 4, 5 -> verify(insn, (insn.reg & 7) == 5);
            default -> throw ud();
        }
    }

    /** SLDT/STR/SMSW to a register store the operand size (zero-extended); to memory 16 bits. */
    private void storeSelector(Insn insn, long value) {
        if (insn.mod == 3) writeReg(insn.rm, insn.opSize, value & 0xFFFF);
        else writeRm(insn, 2, value);
    }

    private void group7(Insn insn) {
        int reg = insn.reg & 7;
        if (insn.mod == 3) {
            int rm = insn.rm & 7;
            if (knownGroup7(reg, rm)) throw unimplemented(insn);
            switch (reg) {
                case 1 -> {
                    if (rm == 2 || rm == 3) { // CLAC / STAC (SDM Vol. 2A)
                        if (s.cpl != 0) throw ud();
                        if (rm == 2) s.rflagsRest &= ~Rflags.AC;
                        else s.rflagsRest |= Rflags.AC;
                        return;
                    }
                    throw ud();
                }
                case 4 -> { umipCheck(); storeSelector(insn, s.cr0 & 0xFFFF); return; }
                case 6 -> { lmsw(readReg(insn.rm, 2)); return; }
                case 7 -> {
                    if (rm == 0) { swapgs(); return; }
                    if (rm == 1) { rdtsc(true); return; }
                    throw ud();
                }
                default -> throw ud();
            }
        }
        switch (reg) {
            case 0, 1 -> {
                umipCheck();
                long off = effectiveOffset(insn);
                int limit = reg == 0 ? s.gdtLimit : s.idtLimit;
                long base = reg == 0 ? s.gdtBase : s.idtBase;
                mmu.write(insn.segment, off, 2, limit & 0xFFFF);
                if (mmu.is64()) mmu.write(insn.segment, mask(off + 2, insn.addrSize), 8, base);
                else mmu.write(insn.segment, mask(off + 2, insn.addrSize), 4, base & 0xFFFF_FFFFL);
            }
            case 2, 3 -> {
                requireCpl0();
                long off = effectiveOffset(insn);
                int limit = (int) mmu.read(insn.segment, off, 2);
                long base;
                if (mmu.is64()) base = mmu.read(insn.segment, mask(off + 2, insn.addrSize), 8);
                else {
                    base = mmu.read(insn.segment, mask(off + 2, insn.addrSize), 4);
                    if (insn.opSize == 2) base &= 0xFF_FFFF;
                }
                if (reg == 2) {
                    s.gdtBase = base;
                    s.gdtLimit = limit;
                } else {
                    s.idtBase = base;
                    s.idtLimit = limit;
                }
            }
            case 4 -> { umipCheck(); storeSelector(insn, s.cr0 & 0xFFFF); }
            case 6 -> lmsw(readRm(insn, 2));
            case 7 -> {
                requireCpl0();
                long off = effectiveOffset(insn);
                long lin = mmu.is64() ? (insn.segment >= CpuState.FS ? off + s.segBase[insn.segment] : off)
                        : (s.segBase[insn.segment] + off) & 0xFFFF_FFFFL;
                mmu.invalidate(lin);
            }
            default -> throw ud();
        }
    }

    /** LMSW: loads PE, MP, EM, TS; cannot clear PE (SDM Vol. 2A LMSW). */
    private void lmsw(long v) {
        requireCpl0();
        long nv = (s.cr0 & ~0xEL) | (v & 0xF) | (s.cr0 & Mmu.CR0_PE);
        writeCr0(nv);
    }

    private void swapgs() {
        if (!mmu.is64()) throw ud();
        requireCpl0();
        long t = s.segBase[CpuState.GS];
        s.segBase[CpuState.GS] = s.kernelGsBase;
        s.kernelGsBase = t;
    }

    /** LAR/LSL (SDM Vol. 2A): ZF = 1 and the access rights or limit when the descriptor is visible at CPL/RPL. */
    private void larLsl(Insn insn) {
        if (!protectedMode()) throw ud();
        boolean lar = insn.opcode == 0x102;
        int sel = (int) readRm(insn, 2);
        long d = visibleDescriptor(sel, lar ? LAR_TYPES : LSL_TYPES);
        long fl = cpu.rflags();
        if (d == 0) {
            cpu.setRflags(fl & ~Rflags.ZF);
            return;
        }
        cpu.setRflags(fl | Rflags.ZF);
        long v = lar ? (d >>> 32) & 0x00F0_FF00L : Segments.limit(d);
        writeReg(insn.reg, insn.opSize == 2 ? 2 : 4, v);
        if (insn.opSize == 8) s.gpr[insn.reg] &= 0xFFFF_FFFFL;
    }

    // System descriptor types LAR/LSL accept (SDM Vol. 2A LAR/LSL tables), as bitmasks of type values.
    private static final int LAR_TYPES = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 11) | (1 << 12);
    private static final int LSL_TYPES = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);

    /** The descriptor for {@code sel} if it exists and passes the privilege check, else 0. */
    private long visibleDescriptor(int sel, int systemTypes) {
        if ((sel & 0xFFFC) == 0) return 0;
        long d;
        try {
            segments.descriptorAddress(sel, CpuException.GP);
        } catch (CpuException e) {
            return 0;
        }
        d = segments.readDescriptor(sel, CpuException.GP);
        int attr = Segments.attr(d);
        if ((attr & CpuState.ATTR_S) == 0) {
            int type = attr & 0xF;
            if ((systemTypes & (1 << type)) == 0) return 0;
            if (mmu.is64() && type != 2 && type != 9 && type != 11 && type != 12) return 0;
        }
        boolean conformingCode = Segments.isCode(attr) && (attr & 4) != 0;
        if (!conformingCode && Segments.dpl(attr) < Math.max(s.cpl, sel & 3)) return 0;
        return d;
    }

    private void verify(Insn insn, boolean write) {
        int sel = (int) readRm(insn, 2);
        long d = visibleDescriptor(sel, 0);
        boolean ok = false;
        if (d != 0) {
            int attr = Segments.attr(d);
            if ((attr & CpuState.ATTR_S) != 0) {
                ok = write ? Segments.isData(attr) && (attr & 2) != 0 : Segments.isData(attr) || (attr & 2) != 0;
            }
        }
        long fl = cpu.rflags();
        cpu.setRflags(ok ? fl | Rflags.ZF : fl & ~Rflags.ZF);
    }

    // ---------------------------------------------------------------- segment registers

    private void movFromSreg(Insn insn) {
        int sreg = insn.reg & 7;
        if (sreg > CpuState.GS) throw ud();
        int sel = s.segSelector[sreg];
        if (insn.mod == 3) writeReg(insn.rm, insn.opSize, sel & 0xFFFF);
        else writeRm(insn, 2, sel);
    }

    private void movToSreg(Insn insn) {
        int sreg = insn.reg & 7;
        if (sreg == CpuState.CS || sreg > CpuState.GS) throw ud();
        int sel = (int) readRm(insn, 2);
        loadSreg(sreg, sel);
        if (sreg == CpuState.SS) stackShadow();
    }

    private void loadSreg(int sreg, int sel) {
        if (sreg == CpuState.SS) {
            segments.loadStack(sel);
        } else {
            segments.loadData(sreg, sel);
        }
    }

    /**
     * After MOV SS and POP SS (not LSS, which loads SS and the stack pointer at once): "the processor
     * inhibits interrupts, debug exceptions, and single-step trap exceptions ... until the
     * instruction boundary following the next instruction is reached" (SDM Vol. 3A §6.8.3; Vol. 2B
     * MOV, POP). The single-step trap is held in {@link X86Cpu#executeOne}.
     */
    private void stackShadow() {
        s.interruptShadow = true;
        cpu.stackLoaded = true;
        cpu.events.post(CpuEvents.SELF);
    }

    private void pushSreg(Insn insn, int sreg) {
        if (mmu.is64() && sreg < CpuState.FS) throw ud();
        push(insn.opSize, s.segSelector[sreg] & 0xFFFF);
    }

    private void popSreg(Insn insn, int sreg) {
        if (mmu.is64() && sreg < CpuState.FS) throw ud();
        int sel = (int) peek(0, insn.opSize) & 0xFFFF;
        loadSreg(sreg, sel);
        discard(insn.opSize);
        if (sreg == CpuState.SS) stackShadow();
    }

    /** LDS/LES/LSS/LFS/LGS: offset then selector from memory (SDM Vol. 2A LDS). */
    private void loadFarPointer(Insn insn, int sreg) {
        if (insn.mod == 3) throw ud();
        long off = effectiveOffset(insn);
        long offset = mmu.read(insn.segment, off, insn.opSize);
        int sel = (int) mmu.read(insn.segment, mask(off + insn.opSize, insn.addrSize), 2);
        loadSreg(sreg, sel);
        writeReg(insn.reg, insn.opSize, offset);
    }

    // ---------------------------------------------------------------- far transfers

    private void farIndirect(Insn insn) {
        int reg = insn.reg & 7;
        if ((reg != 3 && reg != 5) || insn.mod == 3) throw ud();
        long off = effectiveOffset(insn);
        long target = mmu.read(insn.segment, off, insn.opSize);
        int sel = (int) mmu.read(insn.segment, mask(off + insn.opSize, insn.addrSize), 2);
        if (reg == 3) farCall(sel, target, insn.opSize);
        else farJump(sel, target, insn.opSize);
    }

    private boolean realOrV86() { return !protectedMode() || (s.rflagsRest & Rflags.VM) != 0; }

    /** Far JMP (SDM Vol. 2A JMP "Operation"): real mode, or a code segment (no call/task gates). */
    void farJump(int sel, long offset, int opSize) {
        offset = mask(offset, opSize);
        if (realOrV86()) {
            if (offset > s.segLimit[CpuState.CS]) throw gp0();
            segments.loadReal(CpuState.CS, sel);
            s.rip = offset;
            return;
        }
        long d = segments.checkFarTarget(sel);
        checkTargetOffset(d, offset);
        segments.loadCode(sel, d, s.cpl);
        s.rip = offset;
    }

    private void checkTargetOffset(long d, long offset) {
        int attr = Segments.attr(d);
        if ((s.efer & Mmu.EFER_LMA) != 0 && (attr & CpuState.ATTR_L) != 0) {
            if (!Mmu.canonical(offset)) throw gp0();
        } else if (offset > Segments.limit(d)) {
            throw gp0();
        }
    }

    void farCall(int sel, long offset, int opSize) {
        offset = mask(offset, opSize);
        long m = stackMask();
        long sp = s.gpr[CpuState.RSP];
        long p1 = (sp - opSize) & m;
        long p2 = (sp - 2L * opSize) & m;
        if (realOrV86()) {
            if (offset > s.segLimit[CpuState.CS]) throw gp0();
            mmu.write(CpuState.SS, p1, opSize, s.segSelector[CpuState.CS]);
            mmu.write(CpuState.SS, p2, opSize, s.rip);
            segments.loadReal(CpuState.CS, sel);
        } else {
            long d = segments.checkFarTarget(sel);
            checkTargetOffset(d, offset);
            mmu.write(CpuState.SS, p1, opSize, s.segSelector[CpuState.CS]);
            mmu.write(CpuState.SS, p2, opSize, s.rip);
            segments.loadCode(sel, d, s.cpl);
        }
        s.gpr[CpuState.RSP] = (sp & ~m) | p2;
        s.rip = offset;
    }

    /** Far RET [imm16] (SDM Vol. 2A RET "Operation"), including the return to an outer privilege level. */
    private void farReturn(Insn insn, int release) {
        int size = insn.opSize;
        long ip = peek(0, size);
        int sel = (int) peek(1, size) & 0xFFFF;
        if (realOrV86()) {
            ip = mask(ip, size);
            if (ip > s.segLimit[CpuState.CS] && size < 8) throw gp0();
            segments.loadReal(CpuState.CS, sel);
            s.rip = ip;
            discard(2L * size + release);
            return;
        }
        long d = segments.checkReturnTarget(sel);
        int rpl = sel & 3;
        ip = mask(ip, size);
        checkTargetOffset(d, ip);
        if (rpl > s.cpl) {
            long sp = peek(2 + release / size, size);
            int ss = (int) peek(3 + release / size, size) & 0xFFFF;
            boolean to64 = (s.efer & Mmu.EFER_LMA) != 0 && (Segments.attr(d) & CpuState.ATTR_L) != 0;
            long ssd = segments.checkReturnStack(ss, rpl, to64 && rpl < 3);
            segments.loadCode(sel, d, rpl);
            if ((ss & 0xFFFC) == 0) {
                s.segSelector[CpuState.SS] = ss;
                s.segAttr[CpuState.SS] = CpuState.ATTR_UNUSABLE | (rpl << 5);
            } else {
                segments.setCache(CpuState.SS, ss, ssd);
            }
            s.gpr[CpuState.RSP] = mask(sp + release, mmu.is64() ? 8 : (Segments.attr(ssd) & CpuState.ATTR_DB) != 0 ? 4 : 2);
            segments.nullInaccessibleDataSegments();
        } else {
            segments.loadCode(sel, d, s.cpl);
            discard(2L * size + release);
        }
        s.rip = ip;
    }

    // ---------------------------------------------------------------- SYSCALL / SYSRET (SDM Vol. 2B)

    private void syscall() {
        if ((s.efer & Msrs.EFER_SCE) == 0 || (s.efer & Mmu.EFER_LMA) == 0) throw ud();
        boolean from64 = mmu.is64();
        s.gpr[CpuState.RCX] = s.rip;
        long fl = cpu.rflags();
        s.gpr[11] = fl;
        int sel = (int) (s.star >>> 32) & 0xFFFC;
        segments.setFlat(CpuState.CS, sel, 0xB, 0, true);
        segments.setFlat(CpuState.SS, sel + 8, 0x3, 0, false);
        s.cpl = 0;
        cpu.setRflags(fl & ~s.fmask & ~Rflags.RF);
        s.rip = from64 ? s.lstar : s.cstar;
    }

    private void sysret(Insn insn) {
        if ((s.efer & Msrs.EFER_SCE) == 0) throw ud();
        if (s.cpl != 0 || !mmu.is64()) throw gp0();
        int base = (int) (s.star >>> 48) & 0xFFFF;
        long target;
        if (insn.opSize == 8) {
            target = s.gpr[CpuState.RCX];
            if (!Mmu.canonical(target)) throw gp0();
            segments.setFlat(CpuState.CS, ((base + 16) & 0xFFFC) | 3, 0xB, 3, true);
        } else {
            target = s.gpr[CpuState.RCX] & 0xFFFF_FFFFL;
            segments.setFlat(CpuState.CS, (base & 0xFFFC) | 3, 0xB, 3, false);
        }
        // SS keeps its flat cache with DPL 3; the selector is STAR[63:48] + 8 with RPL 3.
        segments.setFlat(CpuState.SS, ((base + 8) & 0xFFFC) | 3, 0x3, 3, false);
        s.cpl = 3;
        long fl = (s.gpr[11] & 0x3C_7FD7L) | 2;
        cpu.setRflags(fl);
        s.rip = target;
        if ((fl & Rflags.IF) != 0) cpu.events.post(CpuEvents.SELF);
    }

    // ---------------------------------------------------------------- CPUID, TSC

    private void cpuid() {
        int leaf = (int) s.gpr[CpuState.RAX], sub = (int) s.gpr[CpuState.RCX];
        int[] o = cpuidOut;
        o[0] = o[1] = o[2] = o[3] = 0;
        if (cpu.cpuid != null) cpu.cpuid.cpuid(cpu.index, leaf, sub, o);
        s.gpr[CpuState.RAX] = o[0] & 0xFFFF_FFFFL;
        s.gpr[CpuState.RBX] = o[1] & 0xFFFF_FFFFL;
        s.gpr[CpuState.RCX] = o[2] & 0xFFFF_FFFFL;
        s.gpr[CpuState.RDX] = o[3] & 0xFFFF_FFFFL;
    }

    private void rdtsc(boolean withAux) {
        if ((s.cr4 & CR4_TSD) != 0 && s.cpl > 0 && protectedMode()) throw gp0();
        long t = msrs.tsc();
        s.gpr[CpuState.RAX] = t & 0xFFFF_FFFFL;
        s.gpr[CpuState.RDX] = t >>> 32;
        if (withAux) s.gpr[CpuState.RCX] = s.tscAux & 0xFFFF_FFFFL;
    }

    // ---------------------------------------------------------------- flags

    /** CLI/STI: #GP(0) in protected mode when CPL > IOPL (no VME/PVI: SDM Vol. 2A CLI table). */
    private void checkIopl() {
        if (protectedMode() && ((s.rflagsRest & Rflags.VM) != 0 ? Rflags.iopl(s) < 3 : s.cpl > Rflags.iopl(s))) throw gp0();
    }

    private void pushf(Insn insn) {
        if ((s.rflagsRest & Rflags.VM) != 0 && Rflags.iopl(s) < 3) throw gp0();
        push(insn.opSize, cpu.rflags() & ~(Rflags.VM | Rflags.RF));
    }

    /** POPF (SDM Vol. 2B POPF "Operation"): IOPL only at CPL 0, IF only when CPL <= IOPL, VM/VIF/VIP kept. */
    private void popf(Insn insn) {
        if ((s.rflagsRest & Rflags.VM) != 0 && Rflags.iopl(s) < 3) throw gp0();
        long popped = peek(0, insn.opSize);
        long old = cpu.rflags();
        int cpl = protectedMode() ? s.cpl : 0;
        long nf = cpu.interrupts.mergeFlags(popped, old, insn.opSize, cpl);
        nf &= ~Rflags.RF;
        discard(insn.opSize);
        cpu.setRflags(nf);
        if ((nf & Rflags.IF) != 0 && (old & Rflags.IF) == 0) cpu.events.post(CpuEvents.SELF);
    }

    // ---------------------------------------------------------------- port I/O

    private static int ioSize(Insn insn) { return insn.opSize == 2 ? 2 : 4; }

    /** I/O permission (SDM Vol. 1 §19.5): CPL > IOPL (or virtual-8086 mode) raises #GP(0); no TSS bitmap. */
    private void checkIo() {
        if (protectedMode() && (s.cpl > Rflags.iopl(s) || (s.rflagsRest & Rflags.VM) != 0)) throw gp0();
    }

    private void in(Insn insn, int port, int size) {
        checkIo();
        cpu.exitPortIn(port, size);
    }

    private void out(Insn insn, int port, int size) {
        checkIo();
        cpu.exitPortOut(port, size, s.gpr[CpuState.RAX] & PhysicalMemory.mask(size));
    }

    private long step(int size) { return (s.rflagsRest & Rflags.DF) != 0 ? -size : size; }

    private void setIndex(int reg, int addrSize, long value) { writeReg(reg, addrSize, value); }

    /** OUTS: one element per exit; with REP, RIP stays on the instruction until RCX reaches 0. */
    private void outs(Insn insn, int size) {
        checkIo();
        int as = insn.addrSize;
        boolean rep = (insn.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0;
        if (rep && mask(s.gpr[CpuState.RCX], as) == 0) return;
        int port = (int) s.gpr[CpuState.RDX] & 0xFFFF;
        long si = mask(s.gpr[CpuState.RSI], as);
        long v = mmu.read(insn.segment, si, size);
        setIndex(CpuState.RSI, as, si + step(size));
        if (rep) {
            long c = mask(s.gpr[CpuState.RCX], as) - 1;
            setIndex(CpuState.RCX, as, c);
            if (c != 0) s.rip -= insn.length;
        }
        cpu.exitPortOut(port, size, v);
    }

    /** INS: the destination is checked first; the port value comes from the exit and the instruction re-executes. */
    private void ins(Insn insn, int size) {
        checkIo();
        int as = insn.addrSize;
        boolean rep = (insn.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0;
        if (rep && mask(s.gpr[CpuState.RCX], as) == 0) return;
        int port = (int) s.gpr[CpuState.RDX] & 0xFFFF;
        long di = mask(s.gpr[CpuState.RDI], as);
        mmu.translate(CpuState.ES, di, size, Mmu.WRITE);
        long v = cpu.takePortInCompletion(port);
        if (v < 0) throw cpu.exitPortInString(port, size);
        mmu.write(CpuState.ES, di, size, v);
        setIndex(CpuState.RDI, as, di + step(size));
        if (rep) {
            long c = mask(s.gpr[CpuState.RCX], as) - 1;
            setIndex(CpuState.RCX, as, c);
            if (c != 0) s.rip -= insn.length;
        }
    }
}
