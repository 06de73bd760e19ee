package dev.jkvm.vmm.vcpu;

/**
 * One CPUID leaf/subleaf and the registers it returns. {@code flags} bit 0 says the subleaf
 * index selects the entry; the value is KVM's (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) so the KVM
 * codec passes it through unchanged.
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    /** flags bit: the subleaf index (ECX) selects this entry. */
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    /** True when the subleaf index selects this entry. */
    public boolean indexSignificant() { return (flags & FLAG_SIGNIFICANT_INDEX) != 0; }

    public CpuidEntry withEbx(int v) { return new CpuidEntry(function, index, flags, eax, v, ecx, edx); }
    public CpuidEntry withEcx(int v) { return new CpuidEntry(function, index, flags, eax, ebx, v, edx); }
    public CpuidEntry withEdx(int v) { return new CpuidEntry(function, index, flags, eax, ebx, ecx, v); }
    public CpuidEntry withEax(int v) { return new CpuidEntry(function, index, flags, v, ebx, ecx, edx); }
}
