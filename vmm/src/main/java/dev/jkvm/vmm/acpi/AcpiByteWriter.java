package dev.jkvm.vmm.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Appends little-endian fields to a growing byte array. ACPI 6.5 §5.2.1: every multi-byte
 * field in a table is little-endian, and tables are byte-packed (no padding between fields).
 */
final class AcpiByteWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    AcpiByteWriter u8(int v) {
        out.write(v & 0xFF);
        return this;
    }

    AcpiByteWriter u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    AcpiByteWriter u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    AcpiByteWriter u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    AcpiByteWriter zeros(int count) {
        for (int i = 0; i < count; i++) out.write(0);
        return this;
    }

    AcpiByteWriter bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** A fixed-width ASCII field, padded with {@code pad}; ACPI IDs are not NUL-terminated. */
    AcpiByteWriter ascii(String s, int width, char pad) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if (b.length > width) {
            throw new IllegalArgumentException("\"" + s + "\" is longer than its " + width + "-byte ACPI field");
        }
        out.writeBytes(b);
        for (int i = b.length; i < width; i++) out.write(pad);
        return this;
    }

    byte[] toByteArray() { return out.toByteArray(); }
}
