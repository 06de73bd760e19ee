package dev.jkvm.klib.kernel.boot;

import dev.jkvm.klib.rt.Port;

/**
 * QEMU's firmware configuration device through its traditional I/O ports (QEMU
 * docs/specs/fw_cfg.rst: a 16-bit key written to the selector port 0x510, the item's bytes read
 * one at a time from the data port 0x511), as QEMU's pc, q35 and microvm machines and our VMM
 * provide it. Used only to cross-check what ACPI says: the number of CPUs the firmware started
 * the machine with. Without the device the data port reads as all ones and the signature check
 * fails, so nothing is believed.
 */
public final class FwCfg {
    private FwCfg() {
    }

    static final int SELECTOR_PORT = 0x510;
    static final int DATA_PORT = 0x511;
    static final int SIGNATURE = 0x0000;
    /** FW_CFG_NB_CPUS: 16-bit little-endian count of the CPUs present at boot (QEMU's smp.cpus). */
    static final int NB_CPUS = 0x0005;

    /** Whether the device answers with the signature "QEMU". */
    public static boolean present() {
        Port.out16(SELECTOR_PORT, SIGNATURE);
        return Port.in8(DATA_PORT) == 'Q' && Port.in8(DATA_PORT) == 'E' && Port.in8(DATA_PORT) == 'M'
                && Port.in8(DATA_PORT) == 'U';
    }

    /** The boot CPU count fw_cfg reports, or 0 when there is no fw_cfg. */
    public static int cpuCount() {
        if (!present()) {
            return 0;
        }
        Port.out16(SELECTOR_PORT, NB_CPUS);
        int low = Port.in8(DATA_PORT) & 0xFF;
        return low | (Port.in8(DATA_PORT) & 0xFF) << 8;
    }
}
