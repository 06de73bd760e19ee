package dev.jkvm.vmm.acpi;

/**
 * The I/O ports of the fixed ACPI hardware the FADT advertises and {@link AcpiPmDevice}
 * implements. 0x600 is outside every legacy ISA device's decode range (and is where QEMU's q35
 * machine puts its PM block), so nothing else on a PC-like board claims it.
 *
 * <p>Register layout, ACPI 6.5 §4.8.3: PM1a event block = PM1 status (2 bytes) then PM1 enable
 * (2 bytes); PM1a control block = PM1 control (2 bytes); PM timer = 4 bytes.
 */
public final class AcpiPmPorts {
    private AcpiPmPorts() {}

    /** The whole block {@link AcpiPmDevice} decodes: register it at {@code [PM_BASE, PM_BASE + PM_LENGTH)}. */
    public static final int PM_BASE = 0x600;
    public static final int PM_LENGTH = 0x0C;

    public static final int PM1A_EVT_BLK = 0x600;
    public static final int PM1_EVT_LEN = 4;
    /** §4.8.3.1: the status register is the first half of the event block, enable the second. */
    public static final int PM1A_STS = PM1A_EVT_BLK;
    public static final int PM1A_EN = PM1A_EVT_BLK + PM1_EVT_LEN / 2;

    public static final int PM1A_CNT_BLK = 0x604;
    public static final int PM1_CNT_LEN = 2;

    public static final int PM_TMR_BLK = 0x608;
    public static final int PM_TMR_LEN = 4;
    /** §4.8.3.3: the power management timer counts at 3.579545 MHz. */
    public static final long PM_TIMER_HZ = 3_579_545L;
    /** Without TMR_VAL_EXT in the FADT flags the timer is 24 bits wide (§4.8.3.3). */
    public static final int PM_TIMER_MASK = 0x00FF_FFFF;

    /** §4.8.3.2.1 PM1 control register bits. */
    public static final int SCI_EN = 1;
    public static final int SLP_TYP_SHIFT = 10;
    public static final int SLP_TYP_MASK = 0b111 << SLP_TYP_SHIFT;
    public static final int SLP_EN = 1 << 13;

    /**
     * The SLP_TYP value for S5 (soft off). The DSDT's {@code \_S5} object hands this value to
     * OSPM, which writes {@code SLP_TYP_S5 << SLP_TYP_SHIFT | SLP_EN} to PM1a_CNT (§7.4.2.5).
     */
    public static final int SLP_TYP_S5 = 5;
    /** The SLP_TYP value for S0 (working), written by OSPM when it leaves a sleep request. */
    public static final int SLP_TYP_S0 = 0;

    /** FADT SCI_INT: the ISA IRQ (and, via the MADT override, the GSI) of the SCI. */
    public static final int SCI_IRQ = 9;

    /**
     * The FADT reset register: the PIIX/ICH "Reset Control Register" at 0xCF9, which guests also
     * poke without ACPI. Bit 1 selects a hard reset, bit 2 (RST_CPU) starts it; 0x06 does both.
     * It lies inside the PCI configuration-address range 0xCF8–0xCFF, where only a byte access
     * reaches it; a PCI host bridge must forward single-byte accesses at 0xCF9 to
     * {@link AcpiPmDevice}.
     */
    public static final int RESET_PORT = 0xCF9;
    public static final int RESET_VALUE = 0x06;
    public static final int RESET_SYS_RST = 1 << 1;
    public static final int RESET_RST_CPU = 1 << 2;
}
