package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Guest RAM at physical 0 and vCPUs over it, with no LAPIC: the system side's test bench. */
final class TestMachine {
    final GuestMemory ram = new GuestMemory();
    final PhysicalMemory mem;
    final HostClock clock = new HostClock();

    TestMachine(long bytes) {
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 4096);
        ram.addRegion(0, seg);
        mem = new PhysicalMemory(ram);
    }

    X86Cpu cpu(int index) {
        return new X86Cpu(index, mem, null, new CpuEvents(), clock, (vcpu, leaf, sub, out) -> {
            out[0] = out[1] = out[2] = out[3] = 0;
            if (leaf == 0x8000_0000) out[0] = 0x8000_0008;
            if (leaf == 0x8000_0008) out[0] = 40;
        });
    }

    // Descriptor builders (SDM Vol. 3 Figure 3-8).
    static long descriptor(long base, long limit, int type, int dpl, boolean s, boolean l, boolean db, boolean g) {
        long d = limit & 0xFFFF;
        d |= (base & 0xFF_FFFFL) << 16;
        d |= (long) (type & 0xF) << 40;
        if (s) d |= 1L << 44;
        d |= (long) (dpl & 3) << 45;
        d |= 1L << 47;
        d |= ((limit >>> 16) & 0xF) << 48;
        if (l) d |= 1L << 53;
        if (db) d |= 1L << 54;
        if (g) d |= 1L << 55;
        d |= ((base >>> 24) & 0xFF) << 56;
        return d;
    }

    static long code64(int dpl) { return descriptor(0, 0xFFFFF, 0xB, dpl, true, true, false, true); }

    static long code32(int dpl) { return descriptor(0, 0xFFFFF, 0xB, dpl, true, false, true, true); }

    static long data(int dpl) { return descriptor(0, 0xFFFFF, 0x3, dpl, true, false, true, true); }

    /** Sets CPL-{@code cpl} flat 64-bit mode (CS {@code cs}, SS {@code ss}) with 4-level paging rooted at {@code cr3}. */
    static void longMode(X86Cpu cpu, long cr3, int cs, int ss, int cpl) {
        CpuState s = cpu.s;
        s.cr0 = 0x8000_0011L;
        s.cr4 = 0x20;
        s.cr3 = cr3;
        s.efer = 0x500 | 0x800 | 1;
        s.segSelector[CpuState.CS] = cs;
        s.segBase[CpuState.CS] = 0;
        s.segLimit[CpuState.CS] = 0xFFFF_FFFFL;
        s.segAttr[CpuState.CS] = 0xB | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_L | CpuState.ATTR_G | (cpl << 5);
        for (int seg : new int[] {CpuState.SS, CpuState.DS, CpuState.ES, CpuState.FS, CpuState.GS}) {
            s.segSelector[seg] = seg == CpuState.SS ? ss : 0;
            s.segBase[seg] = 0;
            s.segLimit[seg] = 0xFFFF_FFFFL;
            s.segAttr[seg] = 0x3 | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_DB | CpuState.ATTR_G | (cpl << 5);
        }
        s.cpl = cpl;
        s.activity = CpuState.Activity.RUNNING;
        cpu.mmu.flush(true);
    }

    /** Flat 32-bit protected mode, paging off, CPL {@code cpl}. */
    static void protected32(X86Cpu cpu, int cs, int ss, int cpl) {
        CpuState s = cpu.s;
        s.cr0 = 0x11;
        s.cr4 = 0;
        s.efer = 0;
        s.segSelector[CpuState.CS] = cs;
        s.segBase[CpuState.CS] = 0;
        s.segLimit[CpuState.CS] = 0xFFFF_FFFFL;
        s.segAttr[CpuState.CS] = 0xB | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_DB | CpuState.ATTR_G | (cpl << 5);
        for (int seg : new int[] {CpuState.SS, CpuState.DS, CpuState.ES, CpuState.FS, CpuState.GS}) {
            s.segSelector[seg] = ss;
            s.segBase[seg] = 0;
            s.segLimit[seg] = 0xFFFF_FFFFL;
            s.segAttr[seg] = 0x3 | CpuState.ATTR_S | CpuState.ATTR_P | CpuState.ATTR_DB | CpuState.ATTR_G | (cpl << 5);
        }
        s.cpl = cpl;
        s.activity = CpuState.Activity.RUNNING;
        cpu.mmu.flush(true);
    }
}
