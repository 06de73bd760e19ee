package dev.jkvm.vmm.kvm;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** struct kvm_cpuid_entry2: one CPUID leaf/subleaf and the registers it returns. */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    static CpuidEntry read(MemorySegment m, long at) {
        return new CpuidEntry(
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FUNCTION), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_INDEX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FLAGS), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EAX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EBX), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_ECX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EDX));
    }

    void write(MemorySegment m, long at) {
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FUNCTION, function);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_INDEX, index);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FLAGS, flags);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EAX, eax);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EBX, ebx);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_ECX, ecx);
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EDX, edx);
    }

    /** True when the subleaf index selects this entry (KVM_CPUID_FLAG_SIGNIFCANT_INDEX). */
    public boolean indexSignificant() { return (flags & KvmAbi.KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0; }

    public CpuidEntry withEbx(int v) { return new CpuidEntry(function, index, flags, eax, v, ecx, edx); }
    public CpuidEntry withEcx(int v) { return new CpuidEntry(function, index, flags, eax, ebx, v, edx); }
    public CpuidEntry withEdx(int v) { return new CpuidEntry(function, index, flags, eax, ebx, ecx, v); }
    public CpuidEntry withEax(int v) { return new CpuidEntry(function, index, flags, v, ebx, ecx, edx); }
}
