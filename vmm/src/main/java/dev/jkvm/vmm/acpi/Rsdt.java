package dev.jkvm.vmm.acpi;

import java.util.List;

/**
 * ACPI 6.5 §5.2.7 Root System Description Table: 32-bit pointers to the other tables. Kept next
 * to the XSDT because ACPI 1.0 guests and some small kernels only follow the RSDT.
 */
final class Rsdt {
    private Rsdt() {}

    static final String SIGNATURE = "RSDT";
    static final int REVISION = 1;
    static final int ENTRY_SIZE = 4;

    static int size(int entries) { return SdtHeader.SIZE + entries * ENTRY_SIZE; }

    static byte[] build(List<Long> tableAddresses) {
        AcpiByteWriter body = new AcpiByteWriter();
        for (long a : tableAddresses) {
            if (a < 0 || a > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("an RSDT entry must lie below 4 GiB, got 0x" + Long.toHexString(a));
            }
            body.u32(a);
        }
        return SdtHeader.wrap(SIGNATURE, REVISION, body.toByteArray());
    }
}
