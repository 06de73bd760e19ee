package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.5.3 Root System Description Pointer, revision 2: the 36-byte structure OSPM
 * finds by scanning for "RSD PTR " on a 16-byte boundary (§5.2.5.1). It carries two checksums:
 * one over the ACPI 1.0 part (first 20 bytes) and an extended one over all 36 bytes.
 */
final class Rsdp {
    private Rsdp() {}

    static final String SIGNATURE = "RSD PTR ";
    static final int SIZE = 36;
    /** ACPI 2.0 and later: the XSDT address field is present. */
    static final int REVISION = 2;
    static final int V1_SIZE = 20;
    static final int CHECKSUM_OFFSET = 8;
    static final int EXTENDED_CHECKSUM_OFFSET = 32;

    static byte[] build(long rsdtAddress, long xsdtAddress) {
        if (rsdtAddress < 0 || rsdtAddress > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("the RSDT must lie below 4 GiB, got 0x" + Long.toHexString(rsdtAddress));
        }
        byte[] rsdp = new AcpiByteWriter()
                .ascii(SIGNATURE, 8, ' ')
                .u8(0)
                .ascii(SdtHeader.OEM_ID, 6, ' ')
                .u8(REVISION)
                .u32(rsdtAddress)
                .u32(SIZE)
                .u64(xsdtAddress)
                .u8(0)
                .zeros(3)
                .toByteArray();
        AcpiChecksum.fix(rsdp, 0, V1_SIZE, CHECKSUM_OFFSET);
        AcpiChecksum.fix(rsdp, 0, SIZE, EXTENDED_CHECKSUM_OFFSET);
        return rsdp;
    }
}
