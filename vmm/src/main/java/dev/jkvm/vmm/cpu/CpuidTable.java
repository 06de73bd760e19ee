package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.vcpu.CpuidEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPUID each vCPU sees: what the accelerator supports (for KVM, on this host), with the
 * per-vCPU identity and a consistent topology patched in — one thread per core, one package holding every vCPU, APIC ID
 * = vCPU index. Without this every vCPU would report the host's APIC ID and core counts.
 */
public final class CpuidTable {
    /** Leaf 1 ECX bit 21: x2APIC; bit 31: running under a hypervisor (SDM Vol. 2A CPUID, Table 3-10). */
    public static final int LEAF1_ECX_X2APIC = 1 << 21;
    public static final int LEAF1_ECX_HYPERVISOR = 1 << 31;
    /** Leaf 1 EDX bit 28: EBX[23:16] holds the logical processor count of the package. */
    public static final int LEAF1_EDX_HTT = 1 << 28;

    /** Leaf 0xB/0x1F level types in ECX[15:8] (SDM Vol. 2A CPUID leaf 0BH). */
    private static final int LEVEL_INVALID = 0;
    private static final int LEVEL_SMT = 1;
    private static final int LEVEL_CORE = 2;

    private final List<CpuidEntry> supported;
    private final int cpus;

    public CpuidTable(List<CpuidEntry> supported, int cpus) {
        if (cpus < 1) throw new IllegalArgumentException("at least one vCPU is needed");
        this.supported = List.copyOf(supported);
        this.cpus = cpus;
    }

    /** Bits needed to hold an APIC ID of every core in the package (the leaf 0xB core-level shift). */
    static int coreIdBits(int cpus) {
        return cpus <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(cpus - 1);
    }

    private int maxBasicLeaf() {
        for (CpuidEntry e : supported) if (e.function() == 0) return e.eax();
        return 0;
    }

    /** The entries for vCPU {@code index}, ready for {@code Vcpu.setCpuid}. */
    public List<CpuidEntry> forVcpu(int index) {
        int apicId = index;
        boolean hasLeafB = false;
        boolean hasLeaf1F = false;
        List<CpuidEntry> out = new ArrayList<>(supported.size() + 6);
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case 0x1 -> {
                    int ebx = (e.ebx() & 0x0000_FFFF) | (apicId << 24) | (Math.min(cpus, 255) << 16);
                    int ecx = e.ecx() | LEAF1_ECX_X2APIC | LEAF1_ECX_HYPERVISOR;
                    int edx = cpus > 1 ? e.edx() | LEAF1_EDX_HTT : e.edx() & ~LEAF1_EDX_HTT;
                    out.add(new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), ebx, ecx, edx));
                }
                case 0x4 -> {
                    // Intel deterministic cache parameters: EAX[31:26] = cores per package - 1
                    // (SDM Vol. 2A CPUID leaf 04H); sharing as in cacheSharing.
                    if ((e.eax() & 0x1F) == 0) {
                        out.add(e);
                    } else {
                        out.add(e.withEax(cacheSharing(e.eax() & 0x03FF_FFFF) | ((Math.min(cpus, 64) - 1) << 26)));
                    }
                }
                case 0x8000_0008 -> {
                    // AMD APM Vol. 3 E.4.7: ECX[7:0] NC = cores - 1, ECX[15:12] ApicIdSize = APIC ID bits for cores.
                    int ecx = (e.ecx() & ~0xF0FF) | (coreIdBits(cpus) << 12) | ((cpus - 1) & 0xFF);
                    out.add(e.withEcx(ecx));
                }
                case 0x8000_001D -> out.add((e.eax() & 0x1F) == 0 ? e : e.withEax(cacheSharing(e.eax())));
                case 0x8000_001E ->
                    // AMD APM Vol. 3 E.4.15: EAX extended APIC ID; EBX[15:8] threads per core - 1, EBX[7:0]
                    // core ID; ECX node 0 of a one-node package.
                    out.add(new CpuidEntry(e.function(), e.index(), e.flags(), apicId, apicId & 0xFF, 0, 0));
                case 0xB -> hasLeafB = true;
                case 0x1F -> hasLeaf1F = true;
                default -> out.add(e);
            }
        }
        if (hasLeafB || maxBasicLeaf() >= 0xB) out.addAll(topologyLeaf(0xB, apicId));
        if (hasLeaf1F) out.addAll(topologyLeaf(0x1F, apicId));
        return out;
    }

    /**
     * Cache sharing in EAX[25:14] (threads sharing the cache - 1) of Intel leaf 4 and AMD leaf
     * 0x8000001D: caches of level 1 and 2 are private to a core (one thread, so 0); level 3 is
     * shared by the whole package. The level is EAX[7:5].
     */
    private int cacheSharing(int eax) {
        int level = (eax >>> 5) & 0x7;
        int sharing = level >= 3 ? Math.min(cpus, 4096) - 1 : 0;
        return (eax & ~(0xFFF << 14)) | (sharing << 14);
    }

    /**
     * Leaf 0xB (and its successor 0x1F): subleaf 0 is the SMT level (1 thread, shift 0),
     * subleaf 1 the core level (all vCPUs, shift = bits for a core ID), subleaf 2 terminates.
     * EDX is the x2APIC ID in every subleaf.
     */
    private List<CpuidEntry> topologyLeaf(int leaf, int x2apicId) {
        int flags = CpuidEntry.FLAG_SIGNIFICANT_INDEX;
        return List.of(
                new CpuidEntry(leaf, 0, flags, 0, 1, (LEVEL_SMT << 8), x2apicId),
                new CpuidEntry(leaf, 1, flags, coreIdBits(cpus), cpus, (LEVEL_CORE << 8) | 1, x2apicId),
                new CpuidEntry(leaf, 2, flags, 0, 0, (LEVEL_INVALID << 8) | 2, x2apicId));
    }
}
