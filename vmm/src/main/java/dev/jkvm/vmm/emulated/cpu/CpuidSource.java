package dev.jkvm.vmm.emulated.cpu;

/**
 * The CPUID table a vCPU answers from (SDM Vol. 2A, CPUID): supplied by the backend, which
 * advertises only what the emulated CPU implements and fills per-vCPU values (leaf 1 EBX APIC ID,
 * leaf 0xB x2APIC ID). The CPU only forwards EAX/ECX and writes the four results.
 */
@FunctionalInterface
public interface CpuidSource {
    /**
     * Fills {@code out[0..3]} with EAX, EBX, ECX, EDX for {@code leaf} (EAX) and {@code subleaf}
     * (ECX) as executed by vCPU {@code vcpu}.
     */
    void cpuid(int vcpu, int leaf, int subleaf, int[] out);
}
