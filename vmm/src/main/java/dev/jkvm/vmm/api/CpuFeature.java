package dev.jkvm.vmm.api;

import dev.jkvm.vmm.vcpu.CpuidEntry;

/**
 * A CPU feature a VM can be built without ({@link VirtualMachine.Builder#withoutCpuFeature}): its
 * CPUID bit is cleared in every vCPU's table, as QEMU's {@code -cpu ...,-apic} does, so a guest
 * kernel's hardware checks can be tested on our VMM. Only the CPUID bit goes; what the guest does
 * on seeing it absent is the point of such a test (the hardware behind it may still be there).
 */
public enum CpuFeature {
    /** CPUID.01H:EDX bit 9, on-chip local APIC (Intel SDM Vol. 2A, CPUID, Table 3-11). */
    LOCAL_APIC(0x1, 9),
    /** CPUID.80000001H:EDX bit 11, SYSCALL/SYSRET in 64-bit mode (Intel SDM Vol. 2A, CPUID). */
    SYSCALL(0x8000_0001, 11),
    /** CPUID.80000001H:EDX bit 20, execute-disable (NX) (Intel SDM Vol. 2A, CPUID). */
    NX(0x8000_0001, 20);

    private final int function;
    private final int edxBit;

    CpuFeature(int function, int edxBit) {
        this.function = function;
        this.edxBit = edxBit;
    }

    /** IA32_APIC_BASE (Intel SDM Vol. 3A 11.4.4): base 0xFEE00000, bit 8 BSP, bit 11 global enable. */
    private static final int IA32_APIC_BASE = 0x1B;
    private static final long APIC_DEFAULT_BASE = 0xFEE0_0000L;
    private static final long APIC_BASE_BSP = 1L << 8;

    /**
     * The MSRs vCPU {@code index} starts with, adjusted for this feature's absence. Without a local
     * APIC: IA32_APIC_BASE with the global enable bit clear, since KVM derives CPUID.01H:EDX.APIC
     * from that bit (with the APIC globally disabled the processor is "functionally equivalent to
     * an IA-32 processor without an on-chip APIC" and CPUID says so, SDM Vol. 3A 11.4.3).
     */
    void adjustMsrs(java.util.Map<Integer, Long> msrs, int index) {
        if (this == LOCAL_APIC) {
            msrs.put(IA32_APIC_BASE, APIC_DEFAULT_BASE | (index == 0 ? APIC_BASE_BSP : 0));
        }
    }

    /** The entry without this feature's bit (entries of other leaves unchanged). */
    CpuidEntry clearFrom(CpuidEntry e) {
        return e.function() == function ? e.withEdx(e.edx() & ~(1 << edxBit)) : e;
    }
}
