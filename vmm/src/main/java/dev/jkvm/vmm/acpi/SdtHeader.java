package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.6 System Description Table Header: the 36 bytes that start every table except
 * the RSDP and the FACS. {@link #wrap} prepends it to a table body, filling in the total length
 * and the checksum that makes the whole table sum to zero.
 */
final class SdtHeader {
    private SdtHeader() {}

    static final int SIZE = 36;
    static final int LENGTH_OFFSET = 4;
    static final int CHECKSUM_OFFSET = 9;

    /** Six characters, space-padded as OEMs do; also used in the RSDP (§5.2.5.3). */
    static final String OEM_ID = "JKVM  ";
    /** The vendor ID of the tool that built the table (§5.2.6 "Creator ID"). */
    static final String CREATOR_ID = "JKVM";
    static final int OEM_REVISION = 1;
    static final int CREATOR_REVISION = 1;

    /**
     * The OEM Table ID names the particular table for the OEM; table-override tools match on it,
     * so it carries the signature to keep every table distinct: "JKVMAPIC", "JKVMFACP", ...
     */
    static String oemTableId(String signature) {
        return "JKVM" + signature;
    }

    /** The complete table: header for {@code signature}/{@code revision} followed by {@code body}. */
    static byte[] wrap(String signature, int revision, byte[] body) {
        if (signature.length() != 4) throw new IllegalArgumentException("ACPI signature must be 4 characters: " + signature);
        AcpiByteWriter w = new AcpiByteWriter()
                .ascii(signature, 4, ' ')
                .u32(SIZE + body.length)
                .u8(revision)
                .u8(0)
                .ascii(OEM_ID, 6, ' ')
                .ascii(oemTableId(signature), 8, ' ')
                .u32(OEM_REVISION)
                .ascii(CREATOR_ID, 4, ' ')
                .u32(CREATOR_REVISION)
                .bytes(body);
        byte[] table = w.toByteArray();
        AcpiChecksum.fix(table, 0, table.length, CHECKSUM_OFFSET);
        return table;
    }
}
