package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.vcpu.CpuidEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The emulated CPUID advertises exactly the features the CPU implements: a feature added here
 * without the instructions behind it (or the reverse) must be a deliberate change of this list.
 */
class EmulatedCpuidTest {
    private static CpuidEntry leaf(List<CpuidEntry> t, int function) {
        return t.stream().filter(e -> e.function() == function).findFirst().orElseThrow();
    }

    @Test
    void featureBitsAreTheImplementedOnes() {
        List<CpuidEntry> t = EmulatedCpuid.table(2_000_000_000L);
        // Leaf 1 EDX (SDM Vol. 2A Table 3-11): PSE 3, TSC 4, MSR 5, PAE 6, CX8 8, APIC 9, PGE 13, CMOV 15,
        // PAT 16, CLFSH 19, FXSR 24, SSE 25, SSE2 26 — and no FPU (bit 0): x87 arithmetic is not emulated.
        assertEquals(bits(3, 4, 5, 6, 8, 9, 13, 15, 16, 19, 24, 25, 26), leaf(t, 1).edx());
        // Leaf 1 ECX (Table 3-10): CX16 13, x2APIC 21, POPCNT 23, TSC-deadline 24, hypervisor 31; no SSE3+, no XSAVE, no AVX.
        assertEquals(bits(13, 21, 23, 24, 31), leaf(t, 1).ecx());
        assertEquals(bits(7, 20), leaf(t, 7).ebx(), "leaf 7 EBX: SMEP, SMAP");
        assertEquals(bits(2), leaf(t, 7).ecx(), "leaf 7 ECX: UMIP");
        assertEquals(bits(11, 20, 26, 27, 29), leaf(t, 0x8000_0001).edx(), "SYSCALL, NX, 1 GiB pages, RDTSCP, LM");
        assertEquals(bits(0, 5), leaf(t, 0x8000_0001).ecx(), "LAHF/SAHF in 64-bit mode, LZCNT");
        assertEquals(0, leaf(t, 7).ebx() & bits(3), "no BMI1: its VEX forms are not implemented, so F3 0F BC is BSF");
    }

    @Test
    void tscFrequencyIsAdvertisedInLeaves15And16() {
        List<CpuidEntry> t = EmulatedCpuid.table(2_000_000_000L);
        CpuidEntry l15 = leaf(t, 0x15);
        assertEquals(2_000_000_000L, Integer.toUnsignedLong(l15.ecx()) * l15.ebx() / l15.eax());
        assertEquals(2000, leaf(t, 0x16).eax());
        assertEquals(0x16, leaf(t, 0).eax(), "max basic leaf covers 0x15/0x16 (and 0xB, added per vCPU)");
    }

    private static int bits(int... positions) {
        int v = 0;
        for (int p : positions) v |= 1 << p;
        return v;
    }
}
