package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.10 Firmware ACPI Control Structure: required on a platform that is not
 * hardware-reduced (it holds the global lock and the waking vector). It has no checksum and no
 * SDT header, and must be 64-byte aligned.
 */
final class Facs {
    private Facs() {}

    static final String SIGNATURE = "FACS";
    static final int SIZE = 64;
    static final int ALIGNMENT = 64;
    /** §5.2.10: version 2 since ACPI 4.0, unchanged in 6.5. */
    static final int VERSION = 2;

    static byte[] build() {
        return new AcpiByteWriter()
                .ascii(SIGNATURE, 4, ' ')
                .u32(SIZE)
                .u32(0)     // hardware signature: the configuration never changes across a sleep
                .u32(0)     // firmware waking vector: we offer no S1–S4, so nothing ever wakes
                .u32(0)     // global lock: free
                .u32(0)     // flags: no S4BIOS, no 64-bit wake
                .u64(0)     // X firmware waking vector
                .u8(VERSION)
                .zeros(3)
                .u32(0)     // OSPM flags
                .zeros(24)
                .toByteArray();
    }
}
