package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * ACPI 6.5 §5.2.5 Root System Description Pointer: finding it (§5.2.5.1) and reading its
 * fields (§5.2.5.3). Addresses here are physical (see PhysicalWindow).
 *
 * Defect policy: a candidate with the right signature but a bad 20-byte checksum is reported and
 * skipped, and the scan goes on (a stale copy must not hide a good one). A revision ≥ 2 RSDP
 * whose length or extended checksum is bad is still used through its ACPI 1.0 part: the RSDT
 * address is covered by the valid 20-byte checksum, the XSDT address is not, so it is ignored.
 */
public final class Rsdp {
    private Rsdp() {
    }

    /** Returned when no valid RSDP exists. */
    public static final long NOT_FOUND = -1;

    /** "RSD PTR " as the little-endian 64-bit value of its eight bytes. */
    static final long SIGNATURE = 0x2052545020445352L;
    static final int CHECKSUM_LENGTH = 20;
    static final int OFFSET_REVISION = 15;
    static final int OFFSET_RSDT_ADDRESS = 16;
    static final int OFFSET_LENGTH = 20;
    static final int OFFSET_XSDT_ADDRESS = 24;
    /** Size of the revision-2 structure; the length field must cover at least this. */
    static final int EXTENDED_LENGTH = 36;
    /** Far more than any revision defines: a larger length field is corrupt. */
    static final int MAX_LENGTH = 4096;

    /** BIOS data area word holding the EBDA's real-mode segment (§5.2.5.1). */
    static final long EBDA_SEGMENT_POINTER = 0x40E;
    static final int EBDA_SCAN_LENGTH = 1024;
    static final long BIOS_AREA_START = 0xE0000;
    static final long BIOS_AREA_END = 0x100000;
    /** The RSDP sits on a 16-byte boundary (§5.2.5.1). */
    static final int SCAN_STEP = 16;

    /**
     * Scans the first KiB of the EBDA, then 0xE0000–0xFFFFF, and returns the physical address of
     * the first RSDP whose 20-byte checksum is valid, or NOT_FOUND.
     */
    public static long find() {
        if (PhysicalWindow.contains(EBDA_SEGMENT_POINTER, 2)) {
            long ebda = (long) PhysicalWindow.u16(EBDA_SEGMENT_POINTER) << 4;
            // A zero segment means no EBDA; one reaching past 1 MiB is not a real-mode EBDA.
            if (ebda != 0 && ebda + EBDA_SCAN_LENGTH <= BIOS_AREA_END) {
                long found = scan(ebda, ebda + EBDA_SCAN_LENGTH);
                if (found != NOT_FOUND) {
                    return found;
                }
            }
        }
        return scan(BIOS_AREA_START, BIOS_AREA_END);
    }

    private static long scan(long start, long end) {
        for (long at = start; at + CHECKSUM_LENGTH <= end; at += SCAN_STEP) {
            if (!PhysicalWindow.contains(at, CHECKSUM_LENGTH)) {
                return NOT_FOUND;
            }
            if (PhysicalWindow.u64(at) != SIGNATURE) {
                continue;
            }
            if (!PhysicalWindow.checksumIsZero(at, CHECKSUM_LENGTH)) {
                Console.print("acpi: RSDP candidate at ");
                Console.printHex(at);
                Console.print(" has a bad checksum; skipping it\n");
                continue;
            }
            checkExtension(at);
            return at;
        }
        return NOT_FOUND;
    }

    /** Reports a revision ≥ 2 RSDP whose extended part cannot be used. */
    private static void checkExtension(long rsdp) {
        if (revision(rsdp) < 2 || extensionIsValid(rsdp)) {
            return;
        }
        Console.print("acpi: RSDP at ");
        Console.printHex(rsdp);
        Console.print(" is revision 2+ but its length or extended checksum is bad; ignoring the XSDT, using the RSDT\n");
    }

    public static int revision(long rsdp) {
        return PhysicalWindow.u8(rsdp + OFFSET_REVISION);
    }

    /** Whether the revision ≥ 2 fields (length, XSDT address) are covered by a valid extended checksum. */
    public static boolean extensionIsValid(long rsdp) {
        if (!PhysicalWindow.contains(rsdp, EXTENDED_LENGTH)) {
            return false;
        }
        long length = PhysicalWindow.u32Unsigned(rsdp + OFFSET_LENGTH);
        return length >= EXTENDED_LENGTH && length <= MAX_LENGTH
                && PhysicalWindow.contains(rsdp, length)
                && PhysicalWindow.checksumIsZero(rsdp, length);
    }

    public static long rsdtAddress(long rsdp) {
        return PhysicalWindow.u32Unsigned(rsdp + OFFSET_RSDT_ADDRESS);
    }

    /** The XSDT address, or 0 when the RSDP is revision 0 or its extended part is invalid. */
    public static long xsdtAddress(long rsdp) {
        if (revision(rsdp) < 2 || !extensionIsValid(rsdp)) {
            return 0;
        }
        return PhysicalWindow.u64(rsdp + OFFSET_XSDT_ADDRESS);
    }
}
