package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Page walks of SDM Vol. 3 Ch. 4: every paging mode and page size, permissions, error codes, A/D bits. */
class MmuPagingTest {
    static final long P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100, NX = 1L << 63;

    TestMachine m;
    X86Cpu cpu;
    PhysicalMemory mem;

    @BeforeEach
    void setUp() {
        m = new TestMachine(64 << 20);
        cpu = m.cpu(0);
        mem = m.mem;
    }

    /** Builds 4-level tables at 0x10000.. mapping: 4 KiB 0x400000 -> 0x200000 (flags), 2 MiB 0x40000000 -> 0x600000, 1 GiB 0x8000000000 -> 0. */
    long fourLevel(long leafFlags) {
        long pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000, pt = 0x13000, pdpt2 = 0x14000, pd2 = 0x15000;
        mem.write(pml4, 8, pdpt | P | RW | US);
        mem.write(pdpt, 8, pd | P | RW | US);                 // 0..1 GiB
        mem.write(pd + 2 * 8, 8, pt | P | RW | US);            // 4 MiB..6 MiB
        mem.write(pt, 8, 0x200000 | leafFlags);               // 0x400000
        mem.write(pdpt + 8, 8, pd2 | P | RW | US);            // 1..2 GiB
        mem.write(pd2, 8, 0x600000 | P | RW | US | PS);       // 0x40000000, 2 MiB
        mem.write(pml4 + 8, 8, pdpt2 | P | RW | US);          // 512 GiB..
        mem.write(pdpt2, 8, 0 | P | RW | PS);                 // 0x8000000000, 1 GiB supervisor
        return pml4;
    }

    private CpuException pf(Runnable r) {
        CpuException e = assertThrows(CpuException.class, r::run);
        assertEquals(CpuException.PF, e.vector, "vector");
        return e;
    }

    @Test
    void fourLevelAllPageSizes() {
        TestMachine.longMode(cpu, fourLevel(P | RW | US), 0x08, 0x10, 0);
        mem.write(0x200123, 4, 0xCAFEBABEL);
        mem.write(0x600000 + 0x1234, 4, 0x11223344L);
        mem.write(0x2345678, 4, 0x55667788L);
        assertEquals(0xCAFEBABEL, cpu.mmu.readLinear(0x400123, 4, true));
        assertEquals(0x11223344L, cpu.mmu.readLinear(0x40001234L, 4, true));
        assertEquals(0x55667788L, cpu.mmu.readLinear(0x8002345678L, 4, true));
        cpu.mmu.writeLinear(0x400ff8, 8, 0x0102030405060708L, true);
        assertEquals(0x0102030405060708L, mem.read(0x200ff8, 8));
    }

    @Test
    void accessedAndDirtyBits() {
        TestMachine.longMode(cpu, fourLevel(P | RW | US), 0x08, 0x10, 0);
        cpu.mmu.readLinear(0x400000, 1, true);
        long pte = mem.read(0x13000, 8);
        assertTrue((pte & A) != 0, "A after read");
        assertFalse((pte & D) != 0, "no D after read");
        assertTrue((mem.read(0x10000, 8) & A) != 0, "PML4E A");
        assertTrue((mem.read(0x12000 + 16, 8) & A) != 0, "PDE A");
        cpu.mmu.writeLinear(0x400000, 1, 5, true); // TLB hit for read must not skip setting D
        assertTrue((mem.read(0x13000, 8) & D) != 0, "D after write");
        cpu.mmu.writeLinear(0x40000000L, 1, 5, true);
        assertTrue((mem.read(0x15000, 8) & D) != 0, "D on 2 MiB PDE");
    }

    @Test
    void errorCodes() {
        TestMachine.longMode(cpu, fourLevel(P | US), 0x08, 0x10, 3); // read-only user page
        cpu.s.cr0 |= Mmu.CR0_WP;
        // Not present: P = 0; user read.
        CpuException e = pf(() -> cpu.mmu.read(CpuState.DS, 0x401000, 4));
        assertEquals(Mmu.PF_U, e.errorCode);
        assertEquals(0x401000, e.faultAddress);
        // User write to read-only: P | W | U.
        e = pf(() -> cpu.mmu.write(CpuState.DS, 0x400010, 4, 1));
        assertEquals(Mmu.PF_P | Mmu.PF_W | Mmu.PF_U, e.errorCode);
        // User read of a supervisor page (the 1 GiB one): P | U.
        e = pf(() -> cpu.mmu.read(CpuState.DS, 0x8000000000L, 1));
        assertEquals(Mmu.PF_P | Mmu.PF_U, e.errorCode);
        // Supervisor write to read-only with CR0.WP: P | W; without WP it is allowed.
        cpu.s.cpl = 0;
        e = pf(() -> cpu.mmu.writeLinear(0x400000, 4, 1, true));
        assertEquals(Mmu.PF_P | Mmu.PF_W, e.errorCode);
        cpu.s.cr0 &= ~Mmu.CR0_WP;
        cpu.mmu.flush(true);
        cpu.mmu.writeLinear(0x400000, 4, 7, true);
        assertEquals(7, mem.read(0x200000, 4));
    }

    @Test
    void noExecuteAndReservedBits() {
        TestMachine.longMode(cpu, fourLevel(P | RW | US | NX), 0x08, 0x10, 0);
        CpuException e = pf(() -> cpu.mmu.translateFetch(0x400000));
        assertEquals(Mmu.PF_P | Mmu.PF_ID, e.errorCode);
        cpu.mmu.readLinear(0x400000, 1, true); // data access fine
        // NX set while EFER.NXE = 0 is a reserved bit: P | RSVD.
        cpu.s.efer &= ~Mmu.EFER_NXE;
        cpu.mmu.flush(true);
        e = pf(() -> cpu.mmu.readLinear(0x400000, 1, true));
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, e.errorCode);
        // A physical-address bit above MAXPHYADDR (40) in the PTE.
        cpu.s.efer |= Mmu.EFER_NXE;
        mem.write(0x13000, 8, 0x200000 | P | RW | (1L << 45));
        cpu.mmu.flush(true);
        e = pf(() -> cpu.mmu.writeLinear(0x400000, 1, 0, true));
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD | Mmu.PF_W, e.errorCode);
    }

    @Test
    void smepSmapAndAc() {
        TestMachine.longMode(cpu, fourLevel(P | RW | US), 0x08, 0x10, 0);
        cpu.s.cr4 |= Mmu.CR4_SMEP | Mmu.CR4_SMAP;
        CpuException e = pf(() -> cpu.mmu.translateFetch(0x400000));
        assertEquals(Mmu.PF_P | Mmu.PF_ID, e.errorCode);
        e = pf(() -> cpu.mmu.read(CpuState.DS, 0x400000, 4));
        assertEquals(Mmu.PF_P, e.errorCode);
        cpu.s.rflagsRest |= Rflags.AC;
        cpu.mmu.read(CpuState.DS, 0x400000, 4); // STAC opens explicit accesses
        cpu.mmu.write(CpuState.DS, 0x400000, 4, 9);
        e = pf(() -> cpu.mmu.readLinear(0x400000, 4, true)); // implicit supervisor accesses never
        assertEquals(Mmu.PF_P, e.errorCode);
        cpu.s.rflagsRest &= ~Rflags.AC;
        pf(() -> cpu.mmu.read(CpuState.DS, 0x400000, 4)); // AC cleared again: not cached as allowed
    }

    @Test
    void pageCrossingWriteFaultsBeforeEitherHalf() {
        TestMachine.longMode(cpu, fourLevel(P | RW | US), 0x08, 0x10, 0);
        mem.write(0x200ffc, 4, 0x11111111L);
        CpuException e = pf(() -> cpu.mmu.writeLinear(0x400ffc, 8, -1L, true));
        assertEquals(0x401000, e.faultAddress, "CR2 is the first byte of the missing page");
        assertEquals(Mmu.PF_W, e.errorCode);
        assertEquals(0x11111111L, mem.read(0x200ffc, 4), "first half untouched");
        // A crossing read that succeeds reassembles both halves.
        mem.write(0x13008, 8, 0x300000 | P | RW);
        mem.write(0x300000, 4, 0xAABBCCDDL);
        assertEquals(0xAABBCCDD_11111111L, cpu.mmu.readLinear(0x400ffc, 8, true));
    }

    @Test
    void legacyPagingFourMegabyteAndPae() {
        TestMachine.protected32(cpu, 0x08, 0x10, 0);
        // 32-bit paging: PD at 0x20000; 0x00400000 -> 4 MiB page at 0x800000 (PSE); 0x00000000 -> PT 0x21000.
        mem.write(0x20000 + 4, 4, 0x800000 | P | RW | PS);
        mem.write(0x20000, 4, 0x21000 | P | RW);
        mem.write(0x21000 + 5 * 4, 4, 0x7000 | P | RW);
        mem.write(0x800000 + 0x12345, 4, 0xABCD);
        mem.write(0x7010, 4, 0x1234);
        cpu.s.cr3 = 0x20000;
        cpu.s.cr4 = Mmu.CR4_PSE;
        cpu.s.cr0 |= Mmu.CR0_PG;
        assertEquals(0xABCD, cpu.mmu.read(CpuState.DS, 0x412345, 4));
        assertEquals(0x1234, cpu.mmu.read(CpuState.DS, 0x5010, 4));
        // Without CR4.PSE the PS bit is ignored: the PDE points to a page table.
        cpu.s.cr4 = 0;
        cpu.mmu.flush(true);
        mem.write(0x800000 + 0x12 * 4, 4, 0x9000 | P);
        assertEquals(0x9000, cpu.mmu.translateLinear(0x412000, Mmu.READ, false, false));

        // PAE: PDPT at 0x30000, PD at 0x31000: 0x40200000 -> 2 MiB page at 0xA00000 with NX.
        mem.write(0x30000 + 8, 8, 0x31000 | P);
        mem.write(0x31000 + 8, 8, 0xA00000 | P | RW | PS | NX);
        mem.write(0xA00000 + 0x10, 4, 0x77);
        cpu.s.cr3 = 0x30000;
        cpu.s.cr4 = Mmu.CR4_PAE;
        cpu.s.efer = Mmu.EFER_NXE;
        cpu.mmu.flush(true);
        assertEquals(0x77, cpu.mmu.read(CpuState.DS, 0x40200010L, 4));
        CpuException e = pf(() -> cpu.mmu.translateFetch(0x40200010L));
        assertEquals(Mmu.PF_P | Mmu.PF_ID, e.errorCode);
    }

    @Test
    void segmentLimitsAndCanonicalChecks() {
        TestMachine.protected32(cpu, 0x08, 0x10, 0);
        cpu.s.segLimit[CpuState.DS] = 0xFFF;
        assertEquals(CpuException.GP, assertThrows(CpuException.class, () -> cpu.mmu.read(CpuState.DS, 0xFFE, 4)).vector);
        cpu.s.segLimit[CpuState.SS] = 0xFFF;
        assertEquals(CpuException.SS, assertThrows(CpuException.class, () -> cpu.mmu.read(CpuState.SS, 0x1000, 1)).vector);
        cpu.s.segAttr[CpuState.ES] = (cpu.s.segAttr[CpuState.ES] & ~0xF) | 0x1; // read-only data
        assertEquals(CpuException.GP, assertThrows(CpuException.class, () -> cpu.mmu.write(CpuState.ES, 0, 1, 0)).vector);
        TestMachine.longMode(cpu, fourLevel(P | RW | US), 0x08, 0x10, 0);
        assertEquals(CpuException.GP, assertThrows(CpuException.class, () -> cpu.mmu.read(CpuState.DS, 0x0000_8000_0000_0000L, 1)).vector);
        assertEquals(CpuException.SS, assertThrows(CpuException.class, () -> cpu.mmu.read(CpuState.SS, 0x0000_7FFF_FFFF_FFFCL, 8)).vector);
        cpu.s.segBase[CpuState.GS] = 0x400000;
        mem.write(0x200008, 4, 0x99);
        assertEquals(0x99, cpu.mmu.read(CpuState.GS, 8, 4), "GS base applies in 64-bit mode");
    }

    @Test
    void globalPagesSurviveCr3LoadButNotInvlpg() {
        TestMachine.longMode(cpu, fourLevel(P | RW | G), 0x08, 0x10, 0);
        cpu.s.cr4 |= Mmu.CR4_PGE;
        assertEquals(0x200000, cpu.mmu.translateLinear(0x400000, Mmu.READ, false, false));
        mem.write(0x13000, 8, 0x300000 | P | RW | G);
        cpu.mmu.flush(false);
        assertEquals(0x200000, cpu.mmu.translateLinear(0x400000, Mmu.READ, false, false), "global entry kept");
        cpu.mmu.invalidate(0x400000);
        assertEquals(0x300000, cpu.mmu.translateLinear(0x400000, Mmu.READ, false, false));
    }
}
