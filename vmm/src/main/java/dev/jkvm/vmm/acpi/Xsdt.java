package dev.jkvm.vmm.acpi;

import java.util.List;

/** ACPI 6.5 §5.2.8 Extended System Description Table: 64-bit pointers to the other tables. */
final class Xsdt {
    private Xsdt() {}

    static final String SIGNATURE = "XSDT";
    static final int REVISION = 1;
    static final int ENTRY_SIZE = 8;

    static int size(int entries) { return SdtHeader.SIZE + entries * ENTRY_SIZE; }

    static byte[] build(List<Long> tableAddresses) {
        AcpiByteWriter body = new AcpiByteWriter();
        for (long a : tableAddresses) body.u64(a);
        return SdtHeader.wrap(SIGNATURE, REVISION, body.toByteArray());
    }
}
