package dev.jkvm.klib.kernel.acpi;

/** What the kernel may do with the topology ACPI discovery produced. */
public final class Outcome {
    private Outcome() {
    }

    /** The MADT was sound: start every enabled processor in the topology. */
    public static final int SMP = 0;
    /**
     * The MADT had defects (see Topology.defects) that were worked around by ignoring the
     * offending entries; what remains is trusted: start the enabled processors in the topology.
     */
    public static final int SMP_DEGRADED = 1;
    /**
     * Boot the BSP only. Either the tables could not be trusted (then the topology holds just the
     * boot CPU, no I/O APIC: use the 8259 PICs), or they are sound but list no other enabled
     * processor (then I/O APICs and overrides are kept).
     */
    public static final int UNIPROCESSOR = 2;
}
