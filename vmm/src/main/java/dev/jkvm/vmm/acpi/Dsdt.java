package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.11.1 Differentiated System Description Table: the AML definition block OSPM
 * loads first. Ours only declares the sleep-state values (§7.4.2 "\_Sx (System States)"): S5
 * (soft off), so that a guest can power the VM off through PM1a_CNT, and S0 (working), which
 * OSPM writes back when it leaves a sleep request. There are no devices to describe that a PC
 * guest would not find by legacy probing.
 */
final class Dsdt {
    private Dsdt() {}

    static final String SIGNATURE = "DSDT";
    /** §5.2.11.1: revision 2 and up makes AML integers 64 bits wide. */
    static final int REVISION = 2;

    /**
     * {@code Name(_S0, Package(){0, 0, 0, 0})} and {@code Name(_S5, Package(){SLP_TYP_S5, 0, 0, 0})}:
     * each package holds the PM1a SLP_TYP, the PM1b SLP_TYP (there is no PM1b block) and two
     * reserved elements (§7.4.2).
     */
    static byte[] body() {
        return new AcpiByteWriter()
                .bytes(sleepState("_S0", AcpiPmPorts.SLP_TYP_S0))
                .bytes(sleepState("_S5", AcpiPmPorts.SLP_TYP_S5))
                .toByteArray();
    }

    private static byte[] sleepState(String name, int pm1aSleepType) {
        return Aml.name(name, Aml.packageOf(Aml.integer(pm1aSleepType), Aml.integer(0), Aml.integer(0), Aml.integer(0)));
    }

    static byte[] build() {
        return SdtHeader.wrap(SIGNATURE, REVISION, body());
    }
}
