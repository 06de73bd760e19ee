package dev.jkvm.vmm.emulated.cpu;

/**
 * Segmentation and paging for one vCPU: logical address to linear (segment base, limit and type
 * in legacy modes, canonical check in 64-bit mode) to physical (32-bit, PAE or 4-level paging
 * through a software TLB), then to guest RAM, this vCPU's LAPIC page, an internal device or an
 * MMIO exit to the VMM.
 *
 * <p>Every method may throw the vCPU's {@link CpuException} (#GP, #SS, #PF with CR2 and error code)
 * before any part of the access happened; an access that crosses a page is translated page by
 * page, both pages checked, before either part is done. Sizes are 1, 2, 4 or 8 bytes; values are
 * zero-extended.
 *
 * <p>The TLB is this vCPU's own: CR3 loads and INVLPG here never touch another vCPU's, so a guest
 * that forgets a TLB shootdown keeps running on stale translations on the other vCPUs, as on
 * hardware (SDM Vol. 3 §4.10.4). Entries are per 4 KiB page; an entry made from a large page
 * remembers the page's size so INVLPG of any address in it drops all of its entries (§4.10.4.1).
 */
public class Mmu {
    /** Access kinds for {@link #translate}. */
    public static final int READ = 0, WRITE = 1, EXECUTE = 2;

    // Page-table entry bits (SDM Vol. 3 Table 4-19 and friends).
    static final long PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;
    static final long PTE_NX = 1L << 63;

    // #PF error code bits (SDM Vol. 3 §4.7, Figure 4-12).
    public static final int PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_ID = 16;

    static final long CR0_PE = 1, CR0_WP = 1L << 16, CR0_PG = 1L << 31;
    static final long CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
    static final long EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
    static final long RFLAGS_AC = 1 << 18;

    private static final int TLB_BITS = 9, TLB_SIZE = 1 << TLB_BITS;
    /** Bits in {@link #tlbAllow}: access class = kind + (user ? 3 : 0). */
    private static final int ALLOW_SHIFT_USER = 3;

    private final X86Cpu cpu;
    private final CpuState s;
    private final CpuException ex;
    private final PhysicalMemory mem;
    private final DebugRegisters debug;

    private final long[] tlbTag = new long[TLB_SIZE];
    private final long[] tlbPhys = new long[TLB_SIZE];
    private final int[] tlbAllow = new int[TLB_SIZE];
    private final boolean[] tlbGlobal = new boolean[TLB_SIZE];
    /**
     * The RAM region holding the whole page ({@link PhysicalMemory#region}), or -1 (MMIO, the
     * LAPIC page, nothing): QEMU's host addend, so a TLB hit on RAM skips the region search.
     */
    private final int[] tlbRegion = new int[TLB_SIZE];
    /** log2 of the size of the page the entry came from (12, 21, 22 or 30). */
    private final byte[] tlbShift = new byte[TLB_SIZE];

    /**
     * Bumped by every TLB flush and INVLPG on this vCPU: caches keyed by linear address (the
     * executor's {@link JumpCache}) are valid only within one epoch.
     */
    long epoch;

    /** Physical-address bits above MAXPHYADDR that must be zero in paging entries (reserved, #PF RSVD). */
    private long reservedPhysBits;
    /** Physical address mask (bits MAXPHYADDR-1..12) for frames in paging entries. */
    private long frameMask;

    public Mmu(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        this.ex = cpu.ex;
        this.mem = cpu.memory;
        this.debug = cpu.debug;
        setMaxPhysAddr(40);
        flush(true);
    }

    /** MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); entry bits from it to 51 are reserved. */
    public void setMaxPhysAddr(int bits) {
        long all = (1L << 52) - 1;
        long below = (1L << bits) - 1;
        reservedPhysBits = all & ~below;
        frameMask = below & ~0xFFFL;
    }

    public PhysicalMemory physical() { return mem; }

    // ---------------------------------------------------------------- segmentation

    /** True in 64-bit mode: IA32_EFER.LMA and CS.L (SDM Vol. 3 §5.2.1). */
    public final boolean is64() { return (s.efer & EFER_LMA) != 0 && (s.segAttr[CpuState.CS] & CpuState.ATTR_L) != 0; }

    static boolean canonical(long linear) { return ((linear << 16) >> 16) == linear; }

    /**
     * The linear address of {@code size} bytes at {@code seg:offset} for an access of {@code kind},
     * with the segment checks of SDM Vol. 3 §5.3 (limit, expand-down) and §5.4.1 (type) in legacy
     * modes, or the canonical check of §3.3.7.1 in 64-bit mode. Faults are #SS(0) for SS, #GP(0)
     * otherwise.
     */
    public final long linear(int seg, long offset, int size, int kind) {
        if (is64()) {
            long lin = seg >= CpuState.FS ? offset + s.segBase[seg] : offset;
            // The last byte needs its own check only when the access crosses a page (within one page
            // both ends are canonical or neither is).
            if (!canonical(lin) || ((lin & 0xFFF) + size > 0x1000 && !canonical(lin + size - 1))) throw segFault(seg);
            return lin;
        }
        if ((s.cr0 & CR0_PE) != 0) {
            int attr = s.segAttr[seg];
            if ((attr & CpuState.ATTR_UNUSABLE) != 0) throw segFault(seg);
            int type = attr & 0xF;
            if ((type & 8) != 0) {
                // Code segment: never writable; readable only with type bit 1 (SDM Table 3-1).
                if (kind == WRITE || (kind == READ && (type & 2) == 0)) throw segFault(seg);
            } else if (kind == WRITE && (type & 2) == 0) {
                throw segFault(seg);
            }
            long limit = s.segLimit[seg];
            if ((type & 0xC) == 4) {
                // Expand-down data segment: valid offsets are (limit, 0xFFFF or 0xFFFFFFFF] (SDM §5.3).
                long upper = (attr & CpuState.ATTR_DB) != 0 ? 0xFFFF_FFFFL : 0xFFFFL;
                if (offset <= limit || offset + size - 1 > upper) throw segFault(seg);
            } else if (offset + size - 1 > limit) {
                throw segFault(seg);
            }
        } else if (offset + size - 1 > s.segLimit[seg]) {
            // Real mode keeps the cached limit (64 KiB unless a protected-mode load left a larger one).
            throw segFault(seg);
        }
        return (s.segBase[seg] + offset) & 0xFFFF_FFFFL;
    }

    private CpuException segFault(int seg) {
        return ex.raise(seg == CpuState.SS ? CpuException.SS : CpuException.GP, 0);
    }

    // ---------------------------------------------------------------- data access

    /** Reads {@code size} bytes at {@code offset} in segment {@code seg} (CpuState.ES..GS); {@code offset} is already masked to the address size. */
    public long read(int seg, long offset, int size) {
        long lin = linear(seg, offset, size, READ);
        boolean user = s.cpl == 3;
        if ((s.cr0 & CR0_PG) != 0 && (lin & 0xFFF) + size <= 0x1000) {
            // TLB hit on a RAM page: one tag compare, one permission bit, the region from the entry.
            long vpn = lin >>> 12;
            int i = (int) vpn & (TLB_SIZE - 1);
            int r = tlbRegion[i];
            if (tlbTag[i] == vpn && r >= 0 && (tlbAllow[i] & (user ? 1 << ALLOW_SHIFT_USER : 1)) != 0) {
                return mem.readRam(r, tlbPhys[i] | (lin & 0xFFF), size);
            }
        }
        return readLinearAs(lin, size, user, false);
    }

    public void write(int seg, long offset, int size, long value) {
        long lin = linear(seg, offset, size, WRITE);
        boolean user = s.cpl == 3;
        if ((s.cr0 & CR0_PG) != 0 && (lin & 0xFFF) + size <= 0x1000) {
            long vpn = lin >>> 12;
            int i = (int) vpn & (TLB_SIZE - 1);
            int r = tlbRegion[i];
            if (tlbTag[i] == vpn && r >= 0 && (tlbAllow[i] & (user ? 2 << ALLOW_SHIFT_USER : 2)) != 0) {
                mem.writeRam(r, tlbPhys[i] | (lin & 0xFFF), size, value);
                return;
            }
        }
        writeLinearAs(lin, size, value, user, false);
    }

    /** Reads and writes at a linear address (descriptor tables, TSS, IDT: supervisor accesses when {@code supervisor}). */
    public long readLinear(long linear, int size, boolean supervisor) {
        return readLinearAs(linear, size, !supervisor && s.cpl == 3, supervisor);
    }

    public void writeLinear(long linear, int size, long value, boolean supervisor) {
        writeLinearAs(linear, size, value, !supervisor && s.cpl == 3, supervisor);
    }

    private long readLinearAs(long linear, int size, boolean user, boolean implicit) {
        if ((linear & 0xFFF) + size <= 0x1000) {
            long p = translateLinear(linear, READ, user, implicit);
            // Watched pages never get a fast TLB entry (walk), so their accesses all come here.
            if (debug.dataArmed) debug.access(linear, size, false);
            return physRead(p, size);
        }
        // Crosses a page: both translations before any access (SDM Vol. 3 §4.7 does not allow a partial access to be observed).
        int first = (int) (0x1000 - (linear & 0xFFF));
        long p0 = translateLinear(linear, READ, user, implicit);
        long p1 = translateLinear(linear + first, READ, user, implicit);
        if (debug.dataArmed) debug.access(linear, size, false);
        long v = 0;
        for (int i = 0; i < size; i++) {
            long b = physRead(i < first ? p0 + i : p1 + (i - first), 1);
            v |= b << (8 * i);
        }
        return v;
    }

    private void writeLinearAs(long linear, int size, long value, boolean user, boolean implicit) {
        if ((linear & 0xFFF) + size <= 0x1000) {
            long p = translateLinear(linear, WRITE, user, implicit);
            if (debug.dataArmed) debug.access(linear, size, true);
            physWrite(p, size, value);
            return;
        }
        int first = (int) (0x1000 - (linear & 0xFFF));
        long p0 = translateLinear(linear, WRITE, user, implicit);
        long p1 = translateLinear(linear + first, WRITE, user, implicit);
        if (debug.dataArmed) debug.access(linear, size, true);
        for (int i = 0; i < size; i++) {
            physWrite(i < first ? p0 + i : p1 + (i - first), 1, value >>> (8 * i));
        }
    }

    /**
     * The physical address of {@code size} bytes at seg:offset for an access of {@code kind},
     * with every check done and accessed/dirty bits set — for locked read-modify-write
     * instructions, which then operate on {@link #physical()} atomically. When the range crosses
     * a page both pages are checked and the first byte's physical address is returned: the caller
     * then runs the operation under {@link PhysicalMemory#lockedSplit} byte-wise through
     * {@link #read}/{@link #write}.
     */
    public long translate(int seg, long offset, int size, int kind) {
        long lin = linear(seg, offset, size, kind);
        boolean user = s.cpl == 3;
        long p = translateLinear(lin, kind, user, false);
        if ((lin & 0xFFF) + size > 0x1000) translateLinear((lin | 0xFFF) + 1, kind, user, false);
        // Locked read-modify-writes bypass read/write: their data breakpoints are recorded here.
        if (debug.dataArmed) debug.access(lin, size, kind == WRITE);
        return p;
    }

    /** Whether {@code size} bytes at linear {@code linear} lie in one page (locked ops use {@link #translate} then). */
    public static boolean samePage(long linear, int size) { return (linear & 0xFFF) + size <= 0x1000; }

    // ---------------------------------------------------------------- instruction fetch

    /** The physical address of the code byte at linear {@code linear} (execute permission checked): the decoded-block cache key. */
    public long translateFetch(long linear) {
        long p = translateLinear(linear, EXECUTE, s.cpl == 3, false);
        if (mem.region(p, 1) < 0) throw cpu.fetchOutsideRam(p);
        return p;
    }

    /** One code byte at a linear address (for the decoder; may cross into the next page). */
    public int fetchByte(long linear) {
        long p = translateFetch(linear);
        return (int) mem.readRam(mem.region(p, 1), p, 1);
    }

    // ---------------------------------------------------------------- physical dispatch

    /** A load from guest-physical {@code p}: RAM, this vCPU's LAPIC page, an internal device, or an MMIO exit. */
    public final long physRead(long p, int size) {
        int r = mem.region(p, size);
        if (r >= 0) return mem.readRam(r, p, size);
        return cpu.mmioRead(p, size);
    }

    public final void physWrite(long p, int size, long value) {
        int r = mem.region(p, size);
        if (r >= 0) {
            mem.writeRam(r, p, size, value);
            return;
        }
        cpu.mmioWrite(p, size, value & PhysicalMemory.mask(size));
    }

    // ---------------------------------------------------------------- paging

    /** Whether paging is on (CR0.PG). */
    public final boolean paging() { return (s.cr0 & CR0_PG) != 0; }

    /**
     * Linear to physical for an access of {@code kind}; {@code user} is a user-mode access (CPL 3,
     * not an implicit supervisor access), {@code implicit} an implicit supervisor access (GDT,
     * IDT, TSS: SMAP applies regardless of RFLAGS.AC, SDM Vol. 3 §4.6.1).
     */
    public final long translateLinear(long linear, int kind, boolean user, boolean implicit) {
        if ((s.cr0 & CR0_PG) == 0) return linear & 0xFFFF_FFFFL;
        long vpn = linear >>> 12;
        int i = (int) vpn & (TLB_SIZE - 1);
        if (tlbTag[i] == vpn && (tlbAllow[i] & (1 << (kind + (user ? ALLOW_SHIFT_USER : 0)))) != 0) {
            return tlbPhys[i] | (linear & 0xFFF);
        }
        return walk(linear, kind, user, implicit);
    }

    /** INVLPG: drops every entry for the page holding {@code linear}, whatever its size (SDM Vol. 3 §4.10.4.1). */
    public void invalidate(long linear) {
        epoch++;
        long vpn = linear >>> 12;
        for (int i = 0; i < TLB_SIZE; i++) {
            int shift = tlbShift[i] - 12;
            if (tlbTag[i] != -1 && (tlbTag[i] >>> shift) == (vpn >>> shift)) tlbTag[i] = -1;
        }
    }

    /** Flushes the TLB: all entries, or all but global ones (CR3 load with CR4.PGE, §4.10.4.1). */
    public void flush(boolean includingGlobal) {
        epoch++;
        for (int i = 0; i < TLB_SIZE; i++) {
            if (includingGlobal || !tlbGlobal[i]) tlbTag[i] = -1;
        }
    }

    /**
     * The page walk (SDM Vol. 3 §4.3 32-bit, §4.4 PAE, §4.5 4-level): checks presence, reserved
     * bits and permissions, then sets accessed bits on every entry used and the dirty bit for a
     * write, fills the TLB and returns the physical address. Throws #PF with CR2's value and the
     * error code of §4.7.
     */
    private long walk(long linear, int kind, boolean user, boolean implicit) {
        final boolean nxe = (s.efer & EFER_NXE) != 0;
        final long nxBit = nxe ? PTE_NX : 0;
        long cr4 = s.cr4;
        // Entry addresses of the levels used (to set A/D) and their sizes.
        long e0 = 0, e1 = 0, e2 = 0, e3 = 0;
        long a0 = -1, a1 = -1, a2 = -1, a3 = -1;
        int entrySize;
        long leaf;
        long leafAddr;
        int shift;
        long rw, us, nx;
        long frame;
        if ((s.efer & EFER_LMA) != 0) {
            entrySize = 8;
            if (!canonical(linear)) throw ex.raise(CpuException.GP, 0);
            long rsvd = reservedPhysBits | (nxe ? 0 : PTE_NX);
            a0 = (s.cr3 & frameMask) + ((linear >>> 39) & 0x1FF) * 8;
            e0 = mem.read(a0, 8);
            if ((e0 & PTE_P) == 0) throw pf(linear, kind, user, 0);
            if ((e0 & (rsvd | PTE_PS)) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
            a1 = (e0 & frameMask) + ((linear >>> 30) & 0x1FF) * 8;
            e1 = mem.read(a1, 8);
            if ((e1 & PTE_P) == 0) throw pf(linear, kind, user, 0);
            if ((e1 & rsvd) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
            rw = e0 & e1 & PTE_RW;
            us = e0 & e1 & PTE_US;
            nx = (e0 | e1) & nxBit;
            if ((e1 & PTE_PS) != 0) {
                if ((e1 & 0x3FFF_E000L) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                leaf = e1;
                leafAddr = a1;
                a1 = -1;
                shift = 30;
                frame = (e1 & frameMask & ~0x3FFF_FFFFL) | (linear & 0x3FFF_F000L);
            } else {
                a2 = (e1 & frameMask) + ((linear >>> 21) & 0x1FF) * 8;
                e2 = mem.read(a2, 8);
                if ((e2 & PTE_P) == 0) throw pf(linear, kind, user, 0);
                if ((e2 & rsvd) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                rw &= e2;
                us &= e2;
                nx |= e2 & nxBit;
                if ((e2 & PTE_PS) != 0) {
                    if ((e2 & 0x1F_E000L) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                    leaf = e2;
                    leafAddr = a2;
                    a2 = -1;
                    shift = 21;
                    frame = (e2 & frameMask & ~0x1F_FFFFL) | (linear & 0x1F_F000L);
                } else {
                    a3 = (e2 & frameMask) + ((linear >>> 12) & 0x1FF) * 8;
                    e3 = mem.read(a3, 8);
                    if ((e3 & PTE_P) == 0) throw pf(linear, kind, user, 0);
                    if ((e3 & rsvd) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                    rw &= e3;
                    us &= e3;
                    nx |= e3 & nxBit;
                    leaf = e3;
                    leafAddr = a3;
                    a3 = -1;
                    shift = 12;
                    frame = e3 & frameMask;
                }
            }
        } else if ((cr4 & CR4_PAE) != 0) {
            entrySize = 8;
            linear &= 0xFFFF_FFFFL;
            long rsvd = reservedPhysBits | (nxe ? 0 : PTE_NX);
            // PDPTEs (SDM §4.4.1): architecturally loaded with CR3; read at walk time here.
            long pdpteAddr = (s.cr3 & 0xFFFF_FFE0L) + ((linear >>> 30) & 3) * 8;
            long pdpte = mem.read(pdpteAddr, 8);
            if ((pdpte & PTE_P) == 0) throw pf(linear, kind, user, 0);
            if ((pdpte & (reservedPhysBits | 0x1E6L | PTE_NX)) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
            a2 = (pdpte & frameMask) + ((linear >>> 21) & 0x1FF) * 8;
            e2 = mem.read(a2, 8);
            if ((e2 & PTE_P) == 0) throw pf(linear, kind, user, 0);
            if ((e2 & rsvd) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
            rw = e2 & PTE_RW;
            us = e2 & PTE_US;
            nx = e2 & nxBit;
            if ((e2 & PTE_PS) != 0) {
                if ((e2 & 0x1F_E000L) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                leaf = e2;
                leafAddr = a2;
                a2 = -1;
                shift = 21;
                frame = (e2 & frameMask & ~0x1F_FFFFL) | (linear & 0x1F_F000L);
            } else {
                a3 = (e2 & frameMask) + ((linear >>> 12) & 0x1FF) * 8;
                e3 = mem.read(a3, 8);
                if ((e3 & PTE_P) == 0) throw pf(linear, kind, user, 0);
                if ((e3 & rsvd) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                rw &= e3;
                us &= e3;
                nx |= e3 & nxBit;
                leaf = e3;
                leafAddr = a3;
                a3 = -1;
                shift = 12;
                frame = e3 & frameMask;
            }
        } else {
            entrySize = 4;
            linear &= 0xFFFF_FFFFL;
            nx = 0;
            a2 = (s.cr3 & 0xFFFF_F000L) + ((linear >>> 22) & 0x3FF) * 4;
            e2 = mem.read(a2, 4);
            if ((e2 & PTE_P) == 0) throw pf(linear, kind, user, 0);
            rw = e2 & PTE_RW;
            us = e2 & PTE_US;
            if ((e2 & PTE_PS) != 0 && (cr4 & CR4_PSE) != 0) {
                // 4 MiB page; PSE-36: PDE bits 20:13 are physical bits 39:32 (SDM §4.3, Table 4-4).
                if ((e2 & 0x20_0000L) != 0) throw pf(linear, kind, user, PF_P | PF_RSVD);
                leaf = e2;
                leafAddr = a2;
                a2 = -1;
                shift = 22;
                frame = ((e2 & 0xFFC0_0000L) | ((e2 & 0x1F_E000L) << 19)) & frameMask | (linear & 0x3F_F000L);
            } else {
                a3 = (e2 & 0xFFFF_F000L) + ((linear >>> 12) & 0x3FF) * 4;
                e3 = mem.read(a3, 4);
                if ((e3 & PTE_P) == 0) throw pf(linear, kind, user, 0);
                rw &= e3;
                us &= e3;
                leaf = e3;
                leafAddr = a3;
                a3 = -1;
                shift = 12;
                frame = e3 & 0xFFFF_F000L;
            }
        }

        // Permissions (SDM Vol. 3 §4.6): compute the allowed access classes for this translation.
        boolean wp = (s.cr0 & CR0_WP) != 0;
        boolean userPage = us != 0;
        boolean smep = (cr4 & CR4_SMEP) != 0, smap = (cr4 & CR4_SMAP) != 0;
        boolean writable = rw != 0;
        boolean exec = nx == 0;
        int allow = 0;
        // Supervisor read / write / execute.
        boolean supData = !(userPage && smap);
        if (supData) allow |= 1;
        if (supData && (writable || !wp)) allow |= 2;
        if (exec && !(userPage && smep)) allow |= 4;
        if (userPage) {
            allow |= 1 << 3;
            if (writable) allow |= 1 << 4;
            if (exec) allow |= 1 << 5;
        }
        int cls = kind + (user ? ALLOW_SHIFT_USER : 0);
        boolean ok = (allow & (1 << cls)) != 0;
        boolean cacheable = true;
        if (!ok && !user && kind != EXECUTE && userPage && smap && !implicit && (s.rflagsRest & RFLAGS_AC) != 0 && s.cpl < 3) {
            // SMAP with RFLAGS.AC = 1 for an explicit supervisor access (SDM §4.6.1): allowed, but
            // not cached as allowed, since AC may be cleared before the next access.
            ok = kind == READ || writable || !wp;
            cacheable = false;
        }
        if (!ok) throw pf(linear, kind, user, PF_P);

        // Accessed bits on every entry used, dirty on the leaf for a write (SDM §4.8).
        setBits(a0, e0, PTE_A, entrySize);
        setBits(a1, e1, PTE_A, entrySize);
        setBits(a2, e2, PTE_A, entrySize);
        setBits(a3, e3, PTE_A, entrySize);
        long leafBits = kind == WRITE ? PTE_A | PTE_D : PTE_A;
        setBits(leafAddr, leaf, leafBits, entrySize);
        boolean dirty = kind == WRITE || (leaf & PTE_D) != 0;
        if (!dirty) allow &= ~((1 << 1) | (1 << 4));

        if (cacheable) {
            long vpn = linear >>> 12;
            int i = (int) vpn & (TLB_SIZE - 1);
            tlbTag[i] = vpn;
            tlbPhys[i] = frame;
            tlbAllow[i] = allow;
            tlbGlobal[i] = (cr4 & CR4_PGE) != 0 && (leaf & PTE_G) != 0;
            tlbShift[i] = (byte) shift;
            // A page holding a watched range gets no RAM region: read/write then take the slow path,
            // which reports the access to the data breakpoints (as QEMU keeps watched pages out of its fast TLB).
            tlbRegion[i] = debug.dataArmed && debug.watchedPage(vpn) ? -1 : mem.region(frame, 0x1000);
        }
        return frame | (linear & 0xFFF);
    }

    private void setBits(long addr, long entry, long bits, int size) {
        if (addr < 0 || (entry & bits) == bits) return;
        // A locked update, as the processor's own (SDM §4.8: "locked operations").
        while (true) {
            long cur = mem.read(addr, size);
            if ((cur & bits) == bits) return;
            if (mem.compareAndExchange(addr, size, cur, cur | bits) == cur) return;
        }
    }

    private CpuException pf(long linear, int kind, boolean user, int code) {
        if (kind == WRITE) code |= PF_W;
        if (user) code |= PF_U;
        // I/D is reported only when NX or SMEP could have caused an instruction-fetch fault (§4.7).
        if (kind == EXECUTE && (((s.efer & EFER_NXE) != 0 && (s.cr4 & CR4_PAE) != 0) || (s.cr4 & CR4_SMEP) != 0)) code |= PF_ID;
        return ex.pageFault(linear, code);
    }
}
