package dev.jkvm.vmm.acpi;

import static dev.jkvm.vmm.acpi.AcpiPmPorts.*;

/**
 * ACPI 6.5 §5.2.9 Fixed ACPI Description Table ("FACP"), revision 6.5: where the DSDT and FACS
 * are and which fixed ACPI hardware exists. We model a PC-like (not hardware-reduced) platform
 * with the smallest useful fixed hardware: a PM1a event and control block (enough for S5 soft
 * off), a PM timer and a reset register, all in I/O space at {@link AcpiPmPorts}.
 */
final class Fadt {
    private Fadt() {}

    static final String SIGNATURE = "FACP";
    static final int REVISION = 6;
    static final int MINOR_REVISION = 5;
    static final int SIZE = 276;

    /** §5.2.9.1: no particular PM profile; OSPM then applies its own defaults. */
    static final int PM_PROFILE_UNSPECIFIED = 0;

    /**
     * §5.2.9 P_LVL2_LAT / P_LVL3_LAT: a latency above 100 (C2) or 1000 (C3) microseconds says the
     * state is not supported. A vCPU has only C1 (HLT); deeper states would just exit to KVM too.
     */
    static final int C2_NOT_SUPPORTED = 101;
    static final int C3_NOT_SUPPORTED = 1001;

    /** §5.2.9.3 IA-PC Boot Architecture Flags. */
    static final int BOOT_LEGACY_DEVICES = 1;
    static final int BOOT_8042 = 1 << 1;
    static final int BOOT_VGA_NOT_PRESENT = 1 << 2;
    static final int BOOT_CMOS_RTC_NOT_PRESENT = 1 << 5;

    /**
     * LEGACY_DEVICES: the board has ISA-style devices (PIT, UART, RTC) that are not enumerated
     * through ACPI. 8042 clear: there is no keyboard controller. VGA_NOT_PRESENT: no VGA, so
     * OSPM must not probe its fixed ports. CMOS_RTC_NOT_PRESENT clear: the RTC is at 0x70/0x71.
     */
    static final int IAPC_BOOT_ARCH = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT;

    /** §5.2.9 Table "Fixed ACPI Description Table Fixed Feature Flags". */
    static final int FLAG_WBINVD = 1;
    static final int FLAG_PROC_C1 = 1 << 2;
    static final int FLAG_PWR_BUTTON = 1 << 4;
    static final int FLAG_SLP_BUTTON = 1 << 5;
    static final int FLAG_FIX_RTC = 1 << 6;
    static final int FLAG_RESET_REG_SUP = 1 << 10;

    /**
     * WBINVD: the instruction flushes caches correctly (KVM executes or emulates it), which every
     * IA-PC must declare. PROC_C1: HLT works on every vCPU. PWR_BUTTON / SLP_BUTTON set: there is
     * no fixed-feature power or sleep button (the VMM powers off by itself, the guest through
     * S5). FIX_RTC set: RTC wake status is not in the PM1 registers, since nothing wakes us.
     * RESET_REG_SUP: the reset register below works.
     */
    static final int FLAGS = FLAG_WBINVD | FLAG_PROC_C1 | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON | FLAG_FIX_RTC | FLAG_RESET_REG_SUP;

    static final GenericAddress RESET_REGISTER = GenericAddress.ioPort(RESET_PORT, 1, GenericAddress.ACCESS_BYTE);

    /** 8 bytes that tell a guest which hypervisor built the tables (§5.2.9, added in ACPI 6.0). */
    static final String HYPERVISOR_VENDOR = "JKVM";

    static byte[] build(long facsAddress, long dsdtAddress) {
        if (facsAddress < 0 || facsAddress > 0xFFFF_FFFFL || dsdtAddress < 0 || dsdtAddress > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("the FACS and DSDT must lie below 4 GiB for the 32-bit FADT fields");
        }
        AcpiByteWriter w = new AcpiByteWriter()
                // FIRMWARE_CTRL; X_FIRMWARE_CTRL must then stay zero (§5.2.9).
                .u32(facsAddress)
                .u32(dsdtAddress)
                .u8(0)                          // reserved (was INT_MODEL in ACPI 1.0)
                .u8(PM_PROFILE_UNSPECIFIED)
                .u16(SCI_IRQ)
                // SMI_CMD = 0 with ACPI_ENABLE = ACPI_DISABLE = 0: the platform is always in ACPI
                // mode (SCI_EN reads 1), so OSPM never asks firmware for a mode switch.
                .u32(0)
                .u8(0).u8(0)
                .u8(0)                          // S4BIOS_REQ: no S4BIOS
                .u8(0)                          // PSTATE_CNT: no performance-state control
                .u32(PM1A_EVT_BLK).u32(0)
                .u32(PM1A_CNT_BLK).u32(0)
                .u32(0)                         // PM2_CNT_BLK: no arbiter-disable register
                .u32(PM_TMR_BLK)
                .u32(0).u32(0)                  // GPE0/GPE1 blocks: no general-purpose events
                .u8(PM1_EVT_LEN).u8(PM1_CNT_LEN).u8(0).u8(PM_TMR_LEN)
                .u8(0).u8(0).u8(0)              // GPE0_BLK_LEN, GPE1_BLK_LEN, GPE1_BASE
                .u8(0)                          // CST_CNT: no _CST change notification
                .u16(C2_NOT_SUPPORTED).u16(C3_NOT_SUPPORTED)
                .u16(0).u16(0)                  // FLUSH_SIZE/STRIDE: ignored because WBINVD is set
                .u8(0).u8(0)                    // DUTY_OFFSET/WIDTH: no throttling
                .u8(0).u8(0).u8(0)              // DAY_ALRM, MON_ALRM, CENTURY: no RTC alarm/century registers
                .u16(IAPC_BOOT_ARCH)
                .u8(0)
                .u32(FLAGS);
        RESET_REGISTER.writeTo(w);
        w.u8(RESET_VALUE)
                .u16(0)                         // ARM_BOOT_ARCH
                .u8(MINOR_REVISION)
                .u64(0)                         // X_FIRMWARE_CTRL
                .u64(dsdtAddress);
        GenericAddress.ioPort(PM1A_EVT_BLK, PM1_EVT_LEN, GenericAddress.ACCESS_WORD).writeTo(w);
        GenericAddress.NONE.writeTo(w);         // X_PM1b_EVT_BLK
        GenericAddress.ioPort(PM1A_CNT_BLK, PM1_CNT_LEN, GenericAddress.ACCESS_WORD).writeTo(w);
        GenericAddress.NONE.writeTo(w);         // X_PM1b_CNT_BLK
        GenericAddress.NONE.writeTo(w);         // X_PM2_CNT_BLK
        GenericAddress.ioPort(PM_TMR_BLK, PM_TMR_LEN, GenericAddress.ACCESS_DWORD).writeTo(w);
        GenericAddress.NONE.writeTo(w);         // X_GPE0_BLK
        GenericAddress.NONE.writeTo(w);         // X_GPE1_BLK
        GenericAddress.NONE.writeTo(w);         // SLEEP_CONTROL_REG: only for hardware-reduced ACPI
        GenericAddress.NONE.writeTo(w);         // SLEEP_STATUS_REG
        w.ascii(HYPERVISOR_VENDOR, 8, '\0');
        byte[] table = SdtHeader.wrap(SIGNATURE, REVISION, w.toByteArray());
        if (table.length != SIZE) throw new IllegalStateException("FADT is " + table.length + " bytes, ACPI 6.5 says " + SIZE);
        return table;
    }
}
