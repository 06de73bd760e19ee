package dev.jkvm.vmm.emulated.cpu;

/**
 * Exception and interrupt delivery (SDM Vol. 3 Ch. 6): the real-mode IVT (§20.1.4), 32-bit IDT
 * gates (§6.12.1) and 64-bit IDT gates with IST (§6.14), privilege changes through the TSS stack
 * pointers, error codes and CR2, the double-fault rules of Table 6-5, triple fault (shutdown),
 * and IRET/IRETQ.
 *
 * <p>Every delivery reads the gate and writes the whole frame before it changes any register, so
 * a fault while delivering (caught here as a nested exception) leaves the interrupted state as it
 * was, ready for the #DF or the serial delivery of the second exception.
 */
public final class InterruptDelivery {
    /** Event sources: they decide the EXT bit, the gate-DPL check and which RIP is saved. */
    public static final int EXCEPTION = 0, EXTERNAL = 1, NMI_EVENT = 2, SOFTWARE = 3, SOFTWARE_EXCEPTION = 4, ICEBP = 5;

    private final X86Cpu cpu;
    private final CpuState s;
    private final CpuException ex;
    private final Mmu mmu;
    private final Segments segs;

    /** Scratch frame: values pushed, innermost last. */
    private final long[] frame = new long[6];

    InterruptDelivery(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        this.ex = cpu.ex;
        this.mmu = cpu.mmu;
        this.segs = cpu.system.segments;
    }

    /**
     * Fault-class exceptions (SDM Vol. 3A §6.5, Table 6-1): their frame gets RF = 1, so the
     * handler's IRET re-executes the instruction without a second instruction-breakpoint #DB
     * (SDM Vol. 3B §17.3.1.1). Not #DB (an instruction breakpoint's pushes RF as it was, a trap's
     * too), #BP and #OF (traps), #DF and #MC (aborts).
     */
    private static boolean fault(int v) {
        return v != CpuException.DB && v != CpuException.BP && v != CpuException.OF && v != CpuException.DF && v != 18 && v < 32;
    }

    /** RF when the exception being delivered is a fault (or'ed into the pushed RFLAGS image), else 0. */
    private long pushedRf;

    private static boolean contributory(int v) {
        return v == CpuException.DE || v == CpuException.TS || v == CpuException.NP || v == CpuException.SS || v == CpuException.GP;
    }

    /**
     * Delivers an exception raised by an instruction (RIP at the faulting instruction for faults,
     * after it for traps), handling a second exception during delivery per SDM Vol. 3 Table 6-5:
     * contributory + contributory or page fault + (contributory or page fault) gives #DF; a fault
     * while delivering #DF shuts the processor down (triple fault).
     */
    public void deliverException(int vector, int errorCode, long faultAddress) {
        boolean fromSoftware = softwareFaulted;
        softwareFaulted = false;
        int kind = EXCEPTION;
        while (true) {
            if (vector == CpuException.PF) s.cr2 = faultAddress;
            pushedRf = fault(vector) ? Rflags.RF : 0;
            try {
                deliver(vector, kind, errorCode);
                pushedRf = 0;
                return;
            } catch (CpuException e) {
                pushedRf = 0;
                int second = e.vector;
                // The processor loads CR2 when it detects a page fault, also one raised while
                // delivering an earlier exception that then becomes #DF (SDM Vol. 3A §6.15,
                // Interrupt 14: CR2 holds the address that generated it); a #DF handler reads it
                // to tell a kernel stack overflow (the frame push faulted) from other double faults.
                if (second == CpuException.PF) s.cr2 = e.faultAddress;
                if (second == CpuException.VMM_EXIT || vector == CpuException.DF) {
                    if (fromSoftware) s.rip = softwareReturn;
                    cpu.shutdown("triple fault: exception " + second + (e.errorCode >= 0 ? " (error code 0x" + Integer.toHexString(e.errorCode) + ")" : "")
                            + " while delivering #DF at RIP 0x" + Long.toHexString(s.rip));
                    return;
                }
                boolean df = kind == EXCEPTION && ((contributory(vector) && contributory(second))
                        || (vector == CpuException.PF && (contributory(second) || second == CpuException.PF)));
                if (df) {
                    vector = CpuException.DF;
                    errorCode = 0;
                } else {
                    vector = second;
                    errorCode = e.errorCode;
                    faultAddress = e.faultAddress;
                }
                kind = EXCEPTION;
            }
        }
    }

    /** Delivers an external interrupt or NMI (from the run loop, between instructions). */
    public void deliverEvent(int vector, int kind) {
        try {
            deliver(vector, kind, CpuException.NO_ERROR_CODE);
        } catch (CpuException e) {
            // Benign first event: the exception is delivered serially (Table 6-5).
            deliverException(e.vector, e.errorCode, e.faultAddress);
        }
    }

    /**
     * INT n / INT3 / INTO / INT1 from the instruction ({@code s.rip} already past it). Faults
     * propagate to the executor, which restores RIP to the INT instruction.
     */
    public void softwareInterrupt(int vector, int kind) {
        softwareReturn = s.rip;
        softwareFaulted = true;
        deliver(vector, kind, CpuException.NO_ERROR_CODE);
        softwareFaulted = false;
    }

    /**
     * The address after an INT n/INT3/INTO/INT1 whose delivery faulted ({@link #softwareFaulted}). The fault itself is
     * delivered with RIP at the instruction (SDM Vol. 3 §6.5); only when it ends in a triple fault
     * is RIP reported after the instruction, as KVM reports it (the trap had begun).
     */
    private long softwareReturn;
    private boolean softwareFaulted;

    /** The instruction left for the VMM (its IDT or stack is not RAM); it re-executes later. */
    void forgetSoftwareInterrupt() { softwareFaulted = false; }

    private void deliver(int vector, int kind, int errorCode) {
        if ((s.cr0 & Mmu.CR0_PE) == 0) {
            deliverReal(vector);
        } else if ((s.efer & Mmu.EFER_LMA) != 0) {
            deliverLong(vector, kind, errorCode);
        } else {
            deliverProtected(vector, kind, errorCode);
        }
        if (s.activity == CpuState.Activity.HALTED) s.activity = CpuState.Activity.RUNNING;
    }

    private int ext(int kind) { return kind == SOFTWARE || kind == SOFTWARE_EXCEPTION ? 0 : 1; }

    // ---------------------------------------------------------------- real mode (§20.1.4)

    private void deliverReal(int vector) {
        if (vector * 4L + 3 > (s.idtLimit & 0xFFFFL)) throw ex.raise(CpuException.GP, 0);
        long entry = mmu.readLinear(s.idtBase + vector * 4L, 4, true);
        long flags = cpu.rflags();
        long sp = s.gpr[CpuState.RSP];
        boolean big = (s.segAttr[CpuState.SS] & CpuState.ATTR_DB) != 0;
        long mask = big ? 0xFFFF_FFFFL : 0xFFFFL;
        long ssBase = s.segBase[CpuState.SS];
        long p = sp;
        p = (p - 2) & mask;
        mmu.writeLinear((ssBase + p) & 0xFFFF_FFFFL, 2, flags, true);
        p = (p - 2) & mask;
        mmu.writeLinear((ssBase + p) & 0xFFFF_FFFFL, 2, s.segSelector[CpuState.CS], true);
        p = (p - 2) & mask;
        mmu.writeLinear((ssBase + p) & 0xFFFF_FFFFL, 2, s.rip, true);
        s.gpr[CpuState.RSP] = (sp & ~mask) | p;
        cpu.setRflags(flags & ~(Rflags.IF | Rflags.TF | Rflags.AC | Rflags.RF));
        segs.loadReal(CpuState.CS, (int) (entry >>> 16) & 0xFFFF);
        s.rip = entry & 0xFFFF;
    }

    // ---------------------------------------------------------------- 32-bit protected mode (§6.12)

    private void deliverProtected(int vector, int kind, int errorCode) {
        int ext = ext(kind);
        int idtErr = vector * 8 + 2 + ext;
        if (vector * 8L + 7 > (s.idtLimit & 0xFFFFL)) throw ex.raise(CpuException.GP, idtErr);
        long gate = mmu.readLinear(s.idtBase + vector * 8L, 8, true);
        int type = (int) (gate >>> 40) & 0x1F;
        if (type != 0x6 && type != 0x7 && type != 0xE && type != 0xF) throw ex.raise(CpuException.GP, idtErr);
        int gateDpl = (int) (gate >>> 45) & 3;
        if ((kind == SOFTWARE || kind == SOFTWARE_EXCEPTION) && gateDpl < s.cpl) throw ex.raise(CpuException.GP, idtErr);
        if ((gate & (1L << 47)) == 0) throw ex.raise(CpuException.NP, idtErr);
        int sel = (int) (gate >>> 16) & 0xFFFF;
        long offset = (gate & 0xFFFF) | ((gate >>> 32) & 0xFFFF_0000L);
        boolean gate32 = (type & 8) != 0;
        if (!gate32) offset &= 0xFFFF;
        if ((sel & 0xFFFC) == 0) throw ex.raise(CpuException.GP, ext);
        long d = segs.readDescriptor(sel, CpuException.GP);
        int attr = Segments.attr(d);
        if (!Segments.isCode(attr) || Segments.dpl(attr) > s.cpl) throw ex.raise(CpuException.GP, (sel & 0xFFFC) + ext);
        if (!Segments.present(attr)) throw ex.raise(CpuException.NP, (sel & 0xFFFC) + ext);
        int newCpl = (attr & 4) != 0 ? s.cpl : Segments.dpl(attr);
        if (offset > Segments.limit(d)) throw ex.raise(CpuException.GP, ext);

        int size = gate32 ? 4 : 2;
        long flags = cpu.rflags() | pushedRf;
        int n = 0;
        long newSsDesc = 0;
        int newSs = 0;
        long sp;
        long ssBase;
        boolean ss32;
        if (newCpl < s.cpl) {
            // Inner stack from the TSS (SDM §7.2.1, Figure 7-2; 16-bit TSS Figure 7-11).
            long tss = s.segBase[CpuState.TR];
            boolean tss32 = (s.segAttr[CpuState.TR] & 8) != 0;
            // The stack pointer and SS must lie within the TSS limit, else #TS(TSS selector + EXT)
            // (SDM Vol. 2A INT n "Operation", INTER-PRIVILEGE-LEVEL-INTERRUPT: TSSstackAddress + 5 /
            // + 3 > TSS limit for a 32-bit / 16-bit TSS).
            long at = tss32 ? 4 + newCpl * 8L : 2 + newCpl * 4L;
            if (at + (tss32 ? 5 : 3) > s.segLimit[CpuState.TR]) throw ex.raise(CpuException.TS, (s.segSelector[CpuState.TR] & 0xFFFC) + ext);
            if (tss32) {
                sp = mmu.readLinear(tss + 4 + newCpl * 8L, 4, true);
                newSs = (int) mmu.readLinear(tss + 8 + newCpl * 8L, 2, true);
            } else {
                sp = mmu.readLinear(tss + 2 + newCpl * 4L, 2, true);
                newSs = (int) mmu.readLinear(tss + 4 + newCpl * 4L, 2, true);
            }
            if ((newSs & 0xFFFC) == 0) throw ex.raise(CpuException.TS, ext);
            newSsDesc = segs.readDescriptor(newSs, CpuException.TS);
            int ssAttr = Segments.attr(newSsDesc);
            if ((newSs & 3) != newCpl || Segments.dpl(ssAttr) != newCpl || !Segments.isData(ssAttr) || (ssAttr & 2) == 0) {
                throw ex.raise(CpuException.TS, (newSs & 0xFFFC) + ext);
            }
            if (!Segments.present(ssAttr)) throw ex.raise(CpuException.SS, (newSs & 0xFFFC) + ext);
            ssBase = Segments.base(newSsDesc);
            ss32 = (ssAttr & CpuState.ATTR_DB) != 0;
            frame[n++] = s.segSelector[CpuState.SS];
            frame[n++] = s.gpr[CpuState.RSP];
        } else {
            sp = s.gpr[CpuState.RSP];
            ssBase = s.segBase[CpuState.SS];
            ss32 = (s.segAttr[CpuState.SS] & CpuState.ATTR_DB) != 0;
        }
        frame[n++] = flags;
        frame[n++] = s.segSelector[CpuState.CS];
        frame[n++] = s.rip;
        if (kind == EXCEPTION && errorCode != CpuException.NO_ERROR_CODE) frame[n++] = errorCode;
        long mask = ss32 ? 0xFFFF_FFFFL : 0xFFFFL;
        long p = sp & mask;
        boolean supervisor = newCpl < 3;
        for (int i = 0; i < n; i++) {
            p = (p - size) & mask;
            mmu.writeLinear((ssBase + p) & 0xFFFF_FFFFL, size, frame[i], supervisor);
        }
        // Commit.
        if (newCpl < s.cpl) {
            segs.setCache(CpuState.SS, newSs, newSsDesc | (1L << 40));
        }
        s.gpr[CpuState.RSP] = (sp & ~mask) | p;
        segs.loadCode(sel, d, newCpl);
        s.rip = offset;
        long clear = Rflags.TF | Rflags.NT | Rflags.VM | Rflags.RF;
        if ((type & 1) == 0) clear |= Rflags.IF;
        cpu.setRflags(flags & ~clear);
    }

    // ---------------------------------------------------------------- IA-32e mode (§6.14)

    private void deliverLong(int vector, int kind, int errorCode) {
        int ext = ext(kind);
        int idtErr = vector * 8 + 2 + ext;
        if (vector * 16L + 15 > (s.idtLimit & 0xFFFFL)) throw ex.raise(CpuException.GP, idtErr);
        long lo = mmu.readLinear(s.idtBase + vector * 16L, 8, true);
        long hi = mmu.readLinear(s.idtBase + vector * 16L + 8, 8, true);
        int type = (int) (lo >>> 40) & 0x1F;
        if (type != 0xE && type != 0xF) throw ex.raise(CpuException.GP, idtErr);
        int gateDpl = (int) (lo >>> 45) & 3;
        if ((kind == SOFTWARE || kind == SOFTWARE_EXCEPTION) && gateDpl < s.cpl) throw ex.raise(CpuException.GP, idtErr);
        if ((lo & (1L << 47)) == 0) throw ex.raise(CpuException.NP, idtErr);
        int sel = (int) (lo >>> 16) & 0xFFFF;
        long offset = (lo & 0xFFFF) | ((lo >>> 32) & 0xFFFF_0000L) | (hi << 32);
        int ist = (int) (lo >>> 32) & 7;
        if ((sel & 0xFFFC) == 0) throw ex.raise(CpuException.GP, ext);
        long d = segs.readDescriptor(sel, CpuException.GP);
        int attr = Segments.attr(d);
        if (!Segments.isCode(attr) || Segments.dpl(attr) > s.cpl
                || (attr & CpuState.ATTR_L) == 0 || (attr & CpuState.ATTR_DB) != 0) {
            throw ex.raise(CpuException.GP, (sel & 0xFFFC) + ext);
        }
        if (!Segments.present(attr)) throw ex.raise(CpuException.NP, (sel & 0xFFFC) + ext);
        if (!Mmu.canonical(offset)) throw ex.raise(CpuException.GP, ext);
        int newCpl = (attr & 4) != 0 ? s.cpl : Segments.dpl(attr);
        boolean privilegeChange = newCpl < s.cpl;

        long rsp;
        long tss = s.segBase[CpuState.TR];
        if (ist != 0 || privilegeChange) {
            // IST1..7 or RSP0..2 (SDM §7.7, Figure 7-23), within the TSS limit, else #TS(TSS selector
            // + EXT) (SDM Vol. 2A INT n "Operation", IA-32e mode: TSSstackAddress + 7 > TSS limit).
            long at = ist != 0 ? 0x24 + (ist - 1) * 8L : 4 + newCpl * 8L;
            if (at + 7 > s.segLimit[CpuState.TR]) throw ex.raise(CpuException.TS, (s.segSelector[CpuState.TR] & 0xFFFC) + ext);
            rsp = mmu.readLinear(tss + at, 8, true);
        } else {
            rsp = s.gpr[CpuState.RSP];
        }
        if (!Mmu.canonical(rsp)) throw ex.raise(CpuException.SS, ext);
        rsp &= ~0xFL; // 16-byte aligned frame (§6.14.2)
        long flags = cpu.rflags() | pushedRf;
        int n = 0;
        frame[n++] = s.segSelector[CpuState.SS];
        frame[n++] = s.gpr[CpuState.RSP];
        frame[n++] = flags;
        frame[n++] = s.segSelector[CpuState.CS];
        frame[n++] = s.rip;
        if (kind == EXCEPTION && errorCode != CpuException.NO_ERROR_CODE) frame[n++] = errorCode & 0xFFFF_FFFFL;
        boolean supervisor = newCpl < 3;
        long p = rsp;
        for (int i = 0; i < n; i++) {
            p -= 8;
            mmu.writeLinear(p, 8, frame[i], supervisor);
        }
        // Commit.
        if (privilegeChange) {
            // SS becomes a null selector with RPL = new CPL (§6.14.4).
            s.segSelector[CpuState.SS] = newCpl;
            s.segBase[CpuState.SS] = 0;
            s.segLimit[CpuState.SS] = 0;
            s.segAttr[CpuState.SS] = CpuState.ATTR_UNUSABLE | (newCpl << 5);
        }
        s.gpr[CpuState.RSP] = p;
        segs.loadCode(sel, d, newCpl);
        s.rip = offset;
        long clear = Rflags.TF | Rflags.NT | Rflags.VM | Rflags.RF;
        if ((type & 1) == 0) clear |= Rflags.IF;
        cpu.setRflags(flags & ~clear);
    }

    // ---------------------------------------------------------------- IRET

    /** IRET/IRETD/IRETQ with operand size {@code size} (SDM Vol. 2A IRET "Operation"). */
    public void iret(int size) {
        long oldFlags = cpu.rflags();
        if ((s.cr0 & Mmu.CR0_PE) == 0) {
            iretReal(size, oldFlags);
        } else if (mmu.is64()) {
            iretLong(size, oldFlags);
        } else {
            iretProtected(size, oldFlags);
        }
        s.nmiBlocked = false;
        // RF from the image lasts one instruction, which the run loop executes on its own (X86Cpu.executeOne).
        if ((s.rflagsRest & (Rflags.IF | Rflags.RF)) != 0) cpu.events.post(CpuEvents.SELF);
    }

    private long stackMask() {
        if (mmu.is64()) return -1L;
        return (s.segAttr[CpuState.SS] & CpuState.ATTR_DB) != 0 ? 0xFFFF_FFFFL : 0xFFFFL;
    }

    private long popAt(long sp, int index, int size, long mask) {
        long off = (sp + (long) index * size) & mask;
        return mmu.read(CpuState.SS, off, size);
    }

    private void iretReal(int size, long oldFlags) {
        long mask = stackMask();
        long sp = s.gpr[CpuState.RSP];
        long ip = popAt(sp, 0, size, mask);
        int cs = (int) popAt(sp, 1, size, mask) & 0xFFFF;
        long fl = popAt(sp, 2, size, mask);
        if (size == 2) fl = (oldFlags & ~0xFFFFL) | fl;
        else fl = (fl & 0x257FD5L) | (oldFlags & 0x1A_0000L);
        s.gpr[CpuState.RSP] = (sp & ~mask) | ((sp + 3L * size) & mask);
        segs.loadReal(CpuState.CS, cs);
        s.rip = ip;
        cpu.setRflags(fl);
    }

    /** Applies popped flags with the privilege rules of POPF/IRET: IOPL only at CPL 0, IF only when CPL <= IOPL. */
    long mergeFlags(long popped, long old, int size, int cpl) {
        long changeable = Rflags.DEFINED & ~(Rflags.VM | Rflags.VIF | Rflags.VIP);
        if (cpl > 0) changeable &= ~Rflags.IOPL;
        if (cpl > Rflags.iopl(s)) changeable &= ~Rflags.IF;
        if (size == 2) changeable &= 0xFFFF;
        return (old & ~changeable) | (popped & changeable);
    }

    private void iretProtected(int size, long oldFlags) {
        if ((oldFlags & Rflags.NT) != 0) throw ex.raise(CpuException.GP, 0); // task return: no hardware task switching here
        long mask = stackMask();
        long sp = s.gpr[CpuState.RSP];
        long eip = popAt(sp, 0, size, mask);
        int cs = (int) popAt(sp, 1, size, mask) & 0xFFFF;
        long fl = popAt(sp, 2, size, mask);
        if ((fl & Rflags.VM) != 0 && s.cpl == 0 && size == 4) throw ex.raise(CpuException.GP, 0); // virtual-8086 mode: not emulated
        long d = segs.checkReturnTarget(cs);
        int rpl = cs & 3;
        if (eip > Segments.limit(d)) throw ex.raise(CpuException.GP, 0);
        long newFlags = mergeFlags(fl, oldFlags, size, s.cpl);
        if (rpl > s.cpl) {
            long newSp = popAt(sp, 3, size, mask);
            int ss = (int) popAt(sp, 4, size, mask) & 0xFFFF;
            long ssd = segs.checkReturnStack(ss, rpl, false);
            segs.loadCode(cs, d, rpl);
            segs.setCache(CpuState.SS, ss, ssd);
            // The popped ESP is an operand-size value ("16-bit pop; clear upper bits", SDM Vol. 2A IRET,
            // RETURN-TO-OUTER-PRIVILEGE-LEVEL); the new SS's B flag decides how much of ESP it replaces:
            // all of it for a 32-bit stack, only SP for a 16-bit one (the upper half keeps the inner
            // stack's bits, as hardware and QEMU do: what Linux's espfix works around).
            long popped = size == 2 ? newSp & 0xFFFF : newSp & 0xFFFF_FFFFL;
            boolean big = (Segments.attr(ssd) & CpuState.ATTR_DB) != 0;
            s.gpr[CpuState.RSP] = big ? popped : (s.gpr[CpuState.RSP] & ~0xFFFFL) | (popped & 0xFFFF);
            segs.nullInaccessibleDataSegments();
        } else {
            segs.loadCode(cs, d, rpl);
            s.gpr[CpuState.RSP] = (sp & ~mask) | ((sp + 3L * size) & mask);
        }
        s.rip = size == 2 ? eip & 0xFFFF : eip;
        cpu.setRflags(newFlags);
    }

    private void iretLong(int size, long oldFlags) {
        if ((oldFlags & Rflags.NT) != 0) throw ex.raise(CpuException.GP, 0);
        long sp = s.gpr[CpuState.RSP];
        long rip = popAt(sp, 0, size, -1L);
        int cs = (int) popAt(sp, 1, size, -1L) & 0xFFFF;
        long fl = popAt(sp, 2, size, -1L);
        long newSp = popAt(sp, 3, size, -1L);
        int ss = (int) popAt(sp, 4, size, -1L) & 0xFFFF;
        long d = segs.checkReturnTarget(cs);
        int rpl = cs & 3;
        int attr = Segments.attr(d);
        boolean to64 = (attr & CpuState.ATTR_L) != 0;
        if (to64 ? !Mmu.canonical(rip) : rip > Segments.limit(d)) throw ex.raise(CpuException.GP, 0);
        // A null SS is allowed when returning to 64-bit mode at CPL < 3 (SDM Vol. 2A IRET).
        long ssd = segs.checkReturnStack(ss, rpl, to64 && rpl < 3);
        long newFlags = mergeFlags(fl, oldFlags, size, s.cpl);
        int oldCpl = s.cpl;
        segs.loadCode(cs, d, rpl);
        if ((ss & 0xFFFC) == 0) {
            s.segSelector[CpuState.SS] = ss;
            s.segBase[CpuState.SS] = 0;
            s.segLimit[CpuState.SS] = 0;
            s.segAttr[CpuState.SS] = CpuState.ATTR_UNUSABLE | (rpl << 5);
        } else {
            segs.setCache(CpuState.SS, ss, ssd);
        }
        s.gpr[CpuState.RSP] = size == 4 ? newSp & 0xFFFF_FFFFL : size == 2 ? newSp & 0xFFFF : newSp;
        s.rip = to64 ? rip : rip & 0xFFFF_FFFFL;
        if (rpl > oldCpl) segs.nullInaccessibleDataSegments();
        cpu.setRflags(newFlags);
    }
}
