package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.api.GuestAccelerators;
import dev.jkvm.vmm.emulated.EmulatedCpuid;
import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.kvm.Kvm;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topology invariants of the per-vCPU CPUID built from each accelerator's supported CPUID (this
 * host's KVM_GET_SUPPORTED_CPUID where KVM is usable; the emulated CPU's EmulatedCpuid table
 * everywhere), as Intel SDM Vol. 2A (leaves 1, 0BH) and AMD APM Vol. 3 (0x80000008, 0x8000001E)
 * define them. The guests in SmpGuestTest read the same leaves from inside.
 */
class CpuidTableTest {
    static Optional<CpuidEntry> find(List<CpuidEntry> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && (!e.indexSignificant() || e.index() == index)).findFirst();
    }

    static Stream<Arguments> cpuCounts() {
        return GuestAccelerators.crossedWith(1, 2, 3, 8, 64);
    }

    private static List<CpuidEntry> supported(Accelerator accel) {
        GuestAccelerators.assumeUsable(accel);
        if (accel == Accelerator.EMULATED) {
            return EmulatedCpuid.table(HostClock.DEFAULT_TSC_HZ);
        }
        try (Kvm kvm = Kvm.open()) {
            return kvm.supportedCpuid();
        }
    }

    @ParameterizedTest(name = "{0}, {1} vCPUs")
    @MethodSource("cpuCounts")
    void everyVcpuHasItsOwnApicIdAndTheSameTopology(Accelerator accel, int cpus) {
        List<CpuidEntry> supported = supported(accel);
        CpuidTable table = new CpuidTable(supported, cpus);
        for (int i = 0; i < cpus; i++) {
            List<CpuidEntry> cpuid = table.forVcpu(i);
            CpuidEntry leaf1 = find(cpuid, 1, 0).orElseThrow();
            assertEquals(i, leaf1.ebx() >>> 24, "leaf 1 EBX[31:24] initial APIC ID");
            assertEquals(cpus, (leaf1.ebx() >>> 16) & 0xFF, "leaf 1 EBX[23:16] logical processors");
            assertTrue((leaf1.ecx() & (1 << 21)) != 0, "x2APIC");
            assertTrue((leaf1.ecx() & (1 << 31)) != 0, "hypervisor present");

            CpuidEntry smt = find(cpuid, 0xB, 0).orElseThrow();
            CpuidEntry core = find(cpuid, 0xB, 1).orElseThrow();
            CpuidEntry end = find(cpuid, 0xB, 2).orElseThrow();
            assertEquals(1, smt.ebx() & 0xFFFF, "one thread per core");
            assertEquals(1, (smt.ecx() >>> 8) & 0xFF, "subleaf 0 is the SMT level");
            assertEquals(cpus, core.ebx() & 0xFFFF, "all vCPUs in the package");
            assertEquals(2, (core.ecx() >>> 8) & 0xFF, "subleaf 1 is the core level");
            assertTrue((1 << (core.eax() & 0x1F)) >= cpus, "core shift covers every APIC ID");
            assertEquals(0, (end.ecx() >>> 8) & 0xFF, "subleaf 2 ends the enumeration");
            for (CpuidEntry e : List.of(smt, core, end)) assertEquals(i, e.edx(), "x2APIC ID");

            find(cpuid, 0x8000_0008, 0).ifPresent(e -> assertEquals(cpus - 1, e.ecx() & 0xFF, "AMD NC"));
            int index = i;
            find(cpuid, 0x8000_001E, 0).ifPresent(e -> assertEquals(index, e.eax(), "AMD extended APIC ID"));
        }
    }
}
