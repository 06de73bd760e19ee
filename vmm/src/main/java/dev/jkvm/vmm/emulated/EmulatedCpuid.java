package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.emulated.cpu.CpuidSource;
import dev.jkvm.vmm.vcpu.CpuidEntry;

import java.util.List;

/**
 * The CPUID the emulated CPU presents: it advertises only what {@code emulated.cpu} implements
 * (Intel SDM Vol. 2A, CPUID, Tables 3-8 to 3-20; leaf numbers and bits are cited per entry), so a
 * kernel that trusts CPUID never meets an instruction or mode we would have to fault. The VMM
 * patches per-vCPU topology into it (APIC IDs, leaf 0xB) exactly as for KVM's table
 * ({@code cpu.CpuidTable}); {@link #source} answers the guest's CPUID from the patched list.
 */
public final class EmulatedCpuid {
    private EmulatedCpuid() {}

    /** "GenuineIntel": our kernels and Linux take the Intel paths for leaves 4/0xB (SDM Vol. 2A leaf 0). */
    private static final int VENDOR_EBX = 0x756E_6547, VENDOR_EDX = 0x4965_6E69, VENDOR_ECX = 0x6C65_746E;

    /** Leaf 1 EAX (SDM Vol. 2A Figure 3-6): family 6, model 0x0F, stepping 1 — P6 family, naming no real part (and its errata). */
    static final int SIGNATURE = (6 << 8) | (0xF << 4) | 1;

    // Leaf 1 EDX (SDM Vol. 2A Table 3-11).
    static final int EDX_PSE = 1 << 3, EDX_TSC = 1 << 4, EDX_MSR = 1 << 5, EDX_PAE = 1 << 6, EDX_CX8 = 1 << 8,
            EDX_APIC = 1 << 9, EDX_PGE = 1 << 13, EDX_CMOV = 1 << 15, EDX_PAT = 1 << 16, EDX_CLFSH = 1 << 19,
            EDX_FXSR = 1 << 24, EDX_SSE = 1 << 25, EDX_SSE2 = 1 << 26;
    // Leaf 1 ECX (Table 3-10).
    static final int ECX_CX16 = 1 << 13, ECX_X2APIC = 1 << 21, ECX_POPCNT = 1 << 23, ECX_TSC_DEADLINE = 1 << 24,
            ECX_HYPERVISOR = 1 << 31;
    // Leaf 7 subleaf 0 (Table 3-8, leaf 07H).
    static final int L7_EBX_SMEP = 1 << 7, L7_EBX_SMAP = 1 << 20, L7_ECX_UMIP = 1 << 2;
    // Leaf 0x80000001 EDX/ECX (Table 3-8, leaf 80000001H).
    static final int X1_EDX_SYSCALL = 1 << 11, X1_EDX_NX = 1 << 20, X1_EDX_PAGE1GB = 1 << 26, X1_EDX_RDTSCP = 1 << 27,
            X1_EDX_LM = 1 << 29, X1_ECX_LAHF = 1;
    /** Leaf 0x80000001 ECX bit 5: LZCNT (F3 0F BD counts leading zeros; without the bit it would be BSR). */
    static final int X1_ECX_LZCNT = 1 << 5;
    /** Leaf 0x80000007 EDX bit 8: invariant TSC (guest TSC follows host monotonic time at a fixed rate). */
    static final int X7_EDX_INVARIANT_TSC = 1 << 8;
    /** Physical address bits (leaf 0x80000008 EAX[7:0]) and linear (EAX[15:8]): 4-level paging. */
    static final int PHYS_BITS = 40, LINEAR_BITS = 48;

    /** The table for a machine whose TSC runs at {@code tscHz}, before per-vCPU patching. */
    public static List<CpuidEntry> table(long tscHz) {
        int leaf1Edx = EDX_PSE | EDX_TSC | EDX_MSR | EDX_PAE | EDX_CX8 | EDX_APIC | EDX_PGE | EDX_CMOV | EDX_PAT
                | EDX_CLFSH | EDX_FXSR | EDX_SSE | EDX_SSE2;
        int leaf1Ecx = ECX_CX16 | ECX_X2APIC | ECX_POPCNT | ECX_TSC_DEADLINE | ECX_HYPERVISOR;
        // Leaf 1 EBX[15:8]: CLFLUSH line size in 8-byte units (64 bytes).
        int leaf1Ebx = 8 << 8;
        int mhz = (int) Math.min(0xFFFF, tscHz / 1_000_000);
        int sig = CpuidEntry.FLAG_SIGNIFICANT_INDEX;
        return List.of(
                new CpuidEntry(0x0, 0, 0, 0x16, VENDOR_EBX, VENDOR_ECX, VENDOR_EDX),
                new CpuidEntry(0x1, 0, 0, SIGNATURE, leaf1Ebx, leaf1Ecx, leaf1Edx),
                new CpuidEntry(0x7, 0, sig, 0, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP, 0),
                // Leaf 0xB is added per vCPU by CpuidTable (max basic leaf >= 0xB).
                // Leaf 0x15: EAX/EBX = TSC/crystal ratio denominator/numerator, ECX = crystal Hz. Ratio 1/1
                // with the TSC frequency as the crystal, so TSC Hz = ECX * EBX / EAX exactly (SDM Vol. 2A leaf 15H).
                new CpuidEntry(0x15, 0, 0, 1, 1, (int) Math.min(0xFFFF_FFFFL, tscHz), 0),
                // Leaf 0x16: base/max frequency in MHz, bus 100 MHz (leaf 16H).
                new CpuidEntry(0x16, 0, 0, mhz, mhz, 100, 0),
                new CpuidEntry(0x8000_0000, 0, 0, 0x8000_0008, 0, 0, 0),
                new CpuidEntry(0x8000_0001, 0, 0, 0, 0, X1_ECX_LAHF | X1_ECX_LZCNT,
                        X1_EDX_SYSCALL | X1_EDX_NX | X1_EDX_PAGE1GB | X1_EDX_RDTSCP | X1_EDX_LM),
                new CpuidEntry(0x8000_0007, 0, 0, 0, 0, 0, X7_EDX_INVARIANT_TSC),
                new CpuidEntry(0x8000_0008, 0, 0, PHYS_BITS | (LINEAR_BITS << 8), 0, 0, 0));
    }

    /**
     * Answers CPUID from {@code entries} (one vCPU's patched table): the entry whose function
     * matches and, when its index is significant, whose index matches ECX; zeros otherwise (a
     * leaf the table lacks, as KVM answers for leaves it was not given).
     */
    public static CpuidSource source(List<CpuidEntry> entries) {
        CpuidEntry[] table = entries.toArray(new CpuidEntry[0]);
        return (vcpu, leaf, subleaf, out) -> {
            for (CpuidEntry e : table) {
                if (e.function() == leaf && (!e.indexSignificant() || e.index() == subleaf)) {
                    out[0] = e.eax();
                    out[1] = e.ebx();
                    out[2] = e.ecx();
                    out[3] = e.edx();
                    return;
                }
            }
            out[0] = out[1] = out[2] = out[3] = 0;
        };
    }
}
