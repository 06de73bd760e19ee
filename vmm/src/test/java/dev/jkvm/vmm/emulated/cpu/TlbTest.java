package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The TLB is per vCPU: a stale translation stays until that vCPU's own INVLPG or CR3 load (SDM Vol. 3 §4.10.4). */
class TlbTest {
    static final long P = 1, RW = 2, PS = 0x80;

    @Test
    void staleUntilInvlpgOnEachVcpu() {
        TestMachine m = new TestMachine(16 << 20);
        PhysicalMemory mem = m.mem;
        mem.write(0x10000, 8, 0x11000 | P | RW);
        mem.write(0x11000, 8, 0x12000 | P | RW);
        mem.write(0x12000, 8, 0x13000 | P | RW);
        mem.write(0x13000, 8, 0x100000 | P | RW);      // linear 0 -> 0x100000
        mem.write(0x12008, 8, 0x200000 | P | RW | PS); // linear 2 MiB -> 2 MiB page at 0x200000
        mem.write(0x100000, 4, 1);
        mem.write(0x500000, 4, 2);
        X86Cpu a = m.cpu(0), b = m.cpu(1);
        TestMachine.longMode(a, 0x10000, 0x08, 0x10, 0);
        TestMachine.longMode(b, 0x10000, 0x08, 0x10, 0);
        assertEquals(1, a.mmu.readLinear(0, 4, true));
        assertEquals(1, b.mmu.readLinear(0, 4, true));

        mem.write(0x13000, 8, 0x500000 | P | RW); // the guest remaps without a shootdown
        assertEquals(1, a.mmu.readLinear(0, 4, true), "stale on a");
        assertEquals(1, b.mmu.readLinear(0, 4, true), "stale on b");
        a.mmu.invalidate(0);
        assertEquals(2, a.mmu.readLinear(0, 4, true), "a sees the new mapping after its INVLPG");
        assertEquals(1, b.mmu.readLinear(0, 4, true), "b still stale: INVLPG is local");
        b.mmu.flush(false); // b loads CR3
        assertEquals(2, b.mmu.readLinear(0, 4, true));

        // INVLPG of any address inside a 2 MiB page drops the entries of the whole page.
        assertEquals(0x200000 + 0x5000, a.mmu.translateLinear(0x205000, Mmu.READ, false, false));
        mem.write(0x12008, 8, 0x400000 | P | RW | PS);
        assertEquals(0x205000, a.mmu.translateLinear(0x205000, Mmu.READ, false, false), "stale");
        a.mmu.invalidate(0x3FF000);
        assertEquals(0x405000, a.mmu.translateLinear(0x205000, Mmu.READ, false, false));
    }

    /**
     * Code fetch goes through the executor's jump cache (linear RIP to decoded block): it must
     * follow the TLB exactly — stale after a remap without shootdown, fresh after this vCPU's own
     * INVLPG or CR3 load, never changed by another vCPU's.
     */
    @Test
    void codeFetchFollowsEachVcpusOwnTlb() {
        TestMachine m = new TestMachine(16 << 20);
        PhysicalMemory mem = m.mem;
        mem.write(0x10000, 8, 0x11000 | P | RW);
        mem.write(0x11000, 8, 0x12000 | P | RW);
        mem.write(0x12000, 8, 0x13000 | P | RW);
        mem.write(0x13000, 8, 0x100000 | P | RW); // code at linear 0 -> 0x100000
        // mov eax, 1 (then 2 in the other page); jmp back to 0: one block each.
        int[] one = {0xB8, 1, 0, 0, 0, 0xEB, 0xF9}, two = {0xB8, 2, 0, 0, 0, 0xEB, 0xF9};
        for (int i = 0; i < one.length; i++) {
            mem.write(0x100000 + i, 1, one[i]);
            mem.write(0x500000 + i, 1, two[i]);
        }
        X86Cpu a = m.cpu(0), b = m.cpu(1);
        TestMachine.longMode(a, 0x10000, 0x08, 0x10, 0);
        TestMachine.longMode(b, 0x10000, 0x08, 0x10, 0);
        assertEquals(1, block(a));
        assertEquals(1, block(b));

        mem.write(0x13000, 8, 0x500000 | P | RW); // remapped without a shootdown
        assertEquals(1, block(a), "stale on a");
        assertEquals(1, block(b), "stale on b");
        a.mmu.invalidate(0);
        assertEquals(2, block(a), "a runs the new page after its INVLPG");
        assertEquals(1, block(b), "b still stale: INVLPG is local");
        b.mmu.flush(false); // b loads CR3
        assertEquals(2, block(b));
    }

    /** Runs one block from linear 0 and returns EAX. */
    private static long block(X86Cpu cpu) {
        cpu.s.rip = 0;
        cpu.s.gpr[0] = 0;
        cpu.executor.stepBlock();
        assertEquals(0, cpu.s.rip, "the block ends at its jump back");
        return cpu.s.gpr[0];
    }
}
