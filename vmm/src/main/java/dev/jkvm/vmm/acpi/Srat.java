package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.16 System Resource Affinity Table: which proximity domain (NUMA node) each
 * processor and memory range belongs to. Only generated when NUMA nodes are configured.
 */
final class Srat {
    private Srat() {}

    static final String SIGNATURE = "SRAT";
    /** §5.2.16: SRAT revision 3. */
    static final int REVISION = 3;

    /** §5.2.16 structure types. */
    static final int TYPE_LOCAL_APIC_AFFINITY = 0;
    static final int TYPE_MEMORY_AFFINITY = 1;
    static final int TYPE_X2APIC_AFFINITY = 2;

    /** §5.2.16.1 / §5.2.16.2 / §5.2.16.3 flags: bit 0 says the entry is in use. */
    static final int ENABLED = 1;

    /**
     * §5.2.16: the first reserved field after the header must be 1, for compatibility with
     * operating systems that read it as the old "table revision".
     */
    static final int LEGACY_RESERVED_ONE = 1;

    static byte[] build(AcpiConfig cfg) {
        int[] domainOfCpu = new int[cfg.cpuCount()];
        for (NumaNode node : cfg.numaNodes()) {
            for (int cpu : node.cpuIndices()) domainOfCpu[cpu] = node.id();
        }
        AcpiByteWriter w = new AcpiByteWriter().u32(LEGACY_RESERVED_ONE).u64(0);
        for (int i = 0; i < cfg.cpuCount(); i++) {
            int domain = domainOfCpu[i];
            int apicId = cfg.apicIds().get(i);
            if (cfg.isX2apicOnly(i)) {
                // §5.2.16.3 Processor Local x2APIC Affinity structure.
                w.u8(TYPE_X2APIC_AFFINITY).u8(24).u16(0).u32(domain).u32(apicId).u32(ENABLED).u32(0).u32(0);
            } else {
                // §5.2.16.1 Processor Local APIC/SAPIC Affinity: the domain is split into bits 7:0
                // and 31:8 because the structure predates 32-bit domains.
                w.u8(TYPE_LOCAL_APIC_AFFINITY).u8(16).u8(domain).u8(apicId).u32(ENABLED)
                        .u8(0).u8(domain >>> 8).u8(domain >>> 16).u8(domain >>> 24).u32(0);
            }
        }
        for (NumaNode node : cfg.numaNodes()) {
            // §5.2.16.2 Memory Affinity structure.
            w.u8(TYPE_MEMORY_AFFINITY).u8(40).u32(node.id()).u16(0)
                    .u64(node.memoryBase()).u64(node.memorySize())
                    .u32(0).u32(ENABLED).u64(0);
        }
        return SdtHeader.wrap(SIGNATURE, REVISION, w.toByteArray());
    }
}
