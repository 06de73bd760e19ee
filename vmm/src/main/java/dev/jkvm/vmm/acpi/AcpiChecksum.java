package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.5.3 and §5.2.6: a checksum byte is chosen so that the covered bytes, the
 * checksum included, add up to zero modulo 256.
 */
final class AcpiChecksum {
    private AcpiChecksum() {}

    /** The low byte of the sum of {@code length} bytes starting at {@code offset}. */
    static int sum(byte[] bytes, int offset, int length) {
        int s = 0;
        for (int i = offset; i < offset + length; i++) s += bytes[i];
        return s & 0xFF;
    }

    /** Stores into {@code bytes[checksumAt]} the value that makes the covered range sum to zero. */
    static void fix(byte[] bytes, int offset, int length, int checksumAt) {
        bytes[checksumAt] = 0;
        bytes[checksumAt] = (byte) -sum(bytes, offset, length);
    }
}
