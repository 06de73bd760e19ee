package dev.jkvm.vmm.emulated.cpu;

/**
 * Segment register loads with the descriptor checks of SDM Vol. 3 §5 and the instruction pages of
 * Vol. 2 (MOV Sreg, POP Sreg, LSS, far JMP/CALL/RET, LTR, LLDT): reads descriptors from the GDT or
 * LDT, checks type, privilege and presence, sets the accessed bit and fills the hidden part.
 */
final class Segments {
    private final X86Cpu cpu;
    private final CpuState s;
    private final CpuException ex;

    Segments(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        this.ex = cpu.ex;
    }

    // Descriptor fields (SDM Vol. 3 §3.4.5, Figure 3-8).
    static long base(long d) { return ((d >>> 16) & 0xFF_FFFFL) | ((d >>> 32) & 0xFF00_0000L); }

    static long limit(long d) {
        long l = (d & 0xFFFF) | ((d >>> 32) & 0xF_0000L);
        return (d & (1L << 55)) != 0 ? (l << 12) | 0xFFF : l;
    }

    /** Attributes as {@link CpuState#segAttr}: descriptor bits 40..55 without the limit nibble. */
    static int attr(long d) { return (int) (d >>> 40) & 0xF0FF; }

    static int dpl(int attr) { return (attr >>> 5) & 3; }

    static boolean present(int attr) { return (attr & CpuState.ATTR_P) != 0; }

    static boolean isCode(int attr) { return (attr & CpuState.ATTR_S) != 0 && (attr & 8) != 0; }

    static boolean isData(int attr) { return (attr & CpuState.ATTR_S) != 0 && (attr & 8) == 0; }

    boolean protectedMode() { return (s.cr0 & Mmu.CR0_PE) != 0 && (s.rflagsRest & Rflags.VM) == 0; }

    boolean longMode() { return (s.efer & Mmu.EFER_LMA) != 0; }

    /** The linear address of descriptor {@code sel} in the GDT or LDT; #GP(sel) past the table limit. */
    long descriptorAddress(int sel, int vector) {
        int index = sel & 0xFFF8;
        long base;
        long limit;
        if ((sel & 4) != 0) {
            if ((s.segAttr[CpuState.LDTR] & CpuState.ATTR_UNUSABLE) != 0) throw ex.raise(vector, sel & 0xFFFC);
            base = s.segBase[CpuState.LDTR];
            limit = s.segLimit[CpuState.LDTR];
        } else {
            base = s.gdtBase;
            limit = s.gdtLimit & 0xFFFFL;
        }
        if (index + 7 > limit) throw ex.raise(vector, sel & 0xFFFC);
        return base + index;
    }

    long readDescriptor(int sel, int vector) {
        return cpu.mmu.readLinear(descriptorAddress(sel, vector), 8, true);
    }

    /** Sets the accessed bit (type bit 0) in memory if clear (SDM §3.4.5.1). */
    private void setAccessed(int sel, long d) {
        if ((d & (1L << 40)) == 0) {
            long addr = descriptorAddress(sel, CpuException.GP);
            cpu.mmu.writeLinear(addr + 5, 1, ((d >>> 40) & 0xFF) | 1, true);
        }
    }

    void setCache(int seg, int sel, long d) {
        s.segSelector[seg] = sel;
        s.segBase[seg] = base(d);
        s.segLimit[seg] = limit(d);
        s.segAttr[seg] = attr(d);
    }

    /** Real-address (and virtual-8086) mode: base = selector * 16; limit and attributes stay (SDM §20.1.1). */
    void loadReal(int seg, int sel) {
        s.segSelector[seg] = sel & 0xFFFF;
        s.segBase[seg] = (long) (sel & 0xFFFF) << 4;
        int attr = s.segAttr[seg] & ~CpuState.ATTR_UNUSABLE;
        s.segAttr[seg] = attr | CpuState.ATTR_P | CpuState.ATTR_S;
    }

    /** A null selector into DS/ES/FS/GS: the register becomes unusable (SDM §3.4.2); SS only in 64-bit mode at CPL < 3. */
    private void loadNull(int seg, int sel) {
        s.segSelector[seg] = sel;
        if (!longMode()) s.segBase[seg] = 0;
        s.segLimit[seg] = 0;
        s.segAttr[seg] = CpuState.ATTR_UNUSABLE | (seg == CpuState.SS ? (s.cpl << 5) : 0);
    }

    /** MOV/POP to DS, ES, FS, GS and LDS..LGS (SDM Vol. 2B MOV "Operation"). */
    void loadData(int seg, int sel) {
        sel &= 0xFFFF;
        if (!protectedMode()) {
            loadReal(seg, sel);
            return;
        }
        if (seg == CpuState.SS) {
            loadStack(sel);
            return;
        }
        if ((sel & 0xFFFC) == 0) {
            loadNull(seg, sel);
            return;
        }
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        int rpl = sel & 3;
        // Data, or readable code; for data and non-conforming code max(CPL, RPL) <= DPL.
        if ((attr & CpuState.ATTR_S) == 0 || (isCode(attr) && (attr & 2) == 0)) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if ((isData(attr) || (attr & 4) == 0) && Math.max(s.cpl, rpl) > dpl(attr)) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.NP, sel & 0xFFFC);
        setAccessed(sel, d);
        setCache(seg, sel, d | (1L << 40));
    }

    /** MOV SS / POP SS / LSS (SDM Vol. 2B MOV: RPL = DPL = CPL, writable data, present else #SS). */
    void loadStack(int sel) {
        sel &= 0xFFFF;
        if (!protectedMode()) {
            loadReal(CpuState.SS, sel);
            return;
        }
        if ((sel & 0xFFFC) == 0) {
            if (cpu.mmu.is64() && s.cpl < 3 && (sel & 3) == s.cpl) {
                loadNull(CpuState.SS, sel);
                return;
            }
            throw ex.raise(CpuException.GP, 0);
        }
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        if ((sel & 3) != s.cpl || dpl(attr) != s.cpl || !isData(attr) || (attr & 2) == 0) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.SS, sel & 0xFFFC);
        setAccessed(sel, d);
        setCache(CpuState.SS, sel, d | (1L << 40));
    }

    /**
     * Loads CS for a far JMP/CALL/RET or IRET to {@code sel} at privilege {@code newCpl} after the
     * caller's checks; in real mode base = sel * 16.
     */
    void loadCode(int sel, long d, int newCpl) {
        s.segSelector[CpuState.CS] = (sel & 0xFFFC) | newCpl;
        s.segBase[CpuState.CS] = base(d);
        s.segLimit[CpuState.CS] = limit(d);
        s.segAttr[CpuState.CS] = attr(d) | 1;
        s.cpl = newCpl;
    }

    /**
     * Checks a code-segment descriptor for a far JMP/CALL to {@code sel} (no call gates: the
     * kernels we run do not use them) and returns it (SDM Vol. 3 §5.8.1, Vol. 2A JMP "Operation").
     */
    long checkFarTarget(int sel) {
        if ((sel & 0xFFFC) == 0) throw ex.raise(CpuException.GP, 0);
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        if (!isCode(attr)) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        int rpl = sel & 3;
        if ((attr & 4) != 0) {
            if (dpl(attr) > s.cpl) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        } else if (rpl > s.cpl || dpl(attr) != s.cpl) {
            throw ex.raise(CpuException.GP, sel & 0xFFFC);
        }
        if (!present(attr)) throw ex.raise(CpuException.NP, sel & 0xFFFC);
        if (longMode() && (attr & CpuState.ATTR_L) != 0 && (attr & CpuState.ATTR_DB) != 0) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        setAccessed(sel, d);
        return d | (1L << 40);
    }

    /**
     * Checks the CS descriptor popped by a far RET or IRET (SDM Vol. 2A RET, IRET "Operation"):
     * RPL >= CPL; conforming DPL <= RPL, non-conforming DPL == RPL; present.
     */
    long checkReturnTarget(int sel) {
        if ((sel & 0xFFFC) == 0) throw ex.raise(CpuException.GP, 0);
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        int rpl = sel & 3;
        if (!isCode(attr) || rpl < s.cpl) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if ((attr & 4) != 0 ? dpl(attr) > rpl : dpl(attr) != rpl) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.NP, sel & 0xFFFC);
        setAccessed(sel, d);
        return d | (1L << 40);
    }

    /** The SS popped when returning to an outer level {@code rpl} (RET/IRET): RPL = DPL = rpl, writable data. */
    long checkReturnStack(int sel, int rpl, boolean allowNull) {
        if ((sel & 0xFFFC) == 0) {
            if (allowNull) return 0;
            throw ex.raise(CpuException.GP, 0);
        }
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        if ((sel & 3) != rpl || dpl(attr) != rpl || !isData(attr) || (attr & 2) == 0) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.SS, sel & 0xFFFC);
        setAccessed(sel, d);
        return d | (1L << 40);
    }

    /** After a return to an outer level: DS/ES/FS/GS the new CPL may not use become null (SDM Vol. 2A RET/IRET). */
    void nullInaccessibleDataSegments() {
        for (int seg : DATA_SEGS) {
            int attr = s.segAttr[seg];
            if ((attr & CpuState.ATTR_UNUSABLE) != 0) continue;
            boolean conformingCode = isCode(attr) && (attr & 4) != 0;
            if (!conformingCode && dpl(attr) < s.cpl) {
                s.segSelector[seg] = 0;
                s.segAttr[seg] = CpuState.ATTR_UNUSABLE;
                if (!longMode()) s.segBase[seg] = 0;
            }
        }
    }

    private static final int[] DATA_SEGS = {CpuState.ES, CpuState.DS, CpuState.FS, CpuState.GS};

    /** The 16-byte system descriptor's upper base bits in long mode (SDM Vol. 3 §7.2.3, Figure 7-4). */
    private long systemBase(int sel, long d) {
        long base = base(d);
        if (longMode()) base |= cpu.mmu.readLinear(descriptorAddress(sel, CpuException.GP) + 8, 4, true) << 32;
        return base;
    }

    /** LTR (SDM Vol. 2A LTR): an available 32/64-bit TSS descriptor in the GDT, marked busy. */
    void loadTaskRegister(int sel) {
        if ((sel & 0xFFFC) == 0 || (sel & 4) != 0) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        long addr = descriptorAddress(sel, CpuException.GP);
        long d = cpu.mmu.readLinear(addr, 8, true);
        int attr = attr(d);
        int type = attr & 0xF;
        boolean ok = (attr & CpuState.ATTR_S) == 0 && (type == 9 || (!longMode() && type == 1));
        if (!ok) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.NP, sel & 0xFFFC);
        long base = systemBase(sel, d);
        cpu.mmu.writeLinear(addr + 5, 1, ((d >>> 40) & 0xFF) | 2, true);
        s.segSelector[CpuState.TR] = sel;
        s.segBase[CpuState.TR] = base;
        s.segLimit[CpuState.TR] = limit(d);
        s.segAttr[CpuState.TR] = attr | 2;
    }

    /** LLDT (SDM Vol. 2A LLDT): null makes LDTR unusable; otherwise an LDT descriptor in the GDT. */
    void loadLdt(int sel) {
        if ((sel & 0xFFFC) == 0) {
            s.segSelector[CpuState.LDTR] = sel;
            s.segAttr[CpuState.LDTR] = CpuState.ATTR_UNUSABLE;
            return;
        }
        if ((sel & 4) != 0) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        long d = readDescriptor(sel, CpuException.GP);
        int attr = attr(d);
        if ((attr & CpuState.ATTR_S) != 0 || (attr & 0xF) != 2) throw ex.raise(CpuException.GP, sel & 0xFFFC);
        if (!present(attr)) throw ex.raise(CpuException.NP, sel & 0xFFFC);
        s.segSelector[CpuState.LDTR] = sel;
        s.segBase[CpuState.LDTR] = systemBase(sel, d);
        s.segLimit[CpuState.LDTR] = limit(d);
        s.segAttr[CpuState.LDTR] = attr;
    }

    /** Flat 4 GiB segment caches for SYSCALL/SYSRET (SDM Vol. 2B SYSCALL "Operation"). */
    void setFlat(int seg, int sel, int type, int dpl, boolean longCode) {
        s.segSelector[seg] = sel;
        s.segBase[seg] = 0;
        s.segLimit[seg] = 0xFFFF_FFFFL;
        int attr = type | CpuState.ATTR_S | (dpl << 5) | CpuState.ATTR_P | CpuState.ATTR_G;
        attr |= longCode ? CpuState.ATTR_L : CpuState.ATTR_DB;
        s.segAttr[seg] = attr;
    }
}
