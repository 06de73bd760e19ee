package dev.jkvm.vmm.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A hand encoder for the few AML terms our DSDT needs (ACPI 6.5 §20.2, "AML Grammar
 * Definition"). Each method returns the encoded bytes of one term so terms nest by plain
 * concatenation.
 */
public final class Aml {
    private Aml() {}

    // §20.2.3 data objects, §20.2.5 term objects, §20.2.2 name objects.
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int PACKAGE_OP = 0x12;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int ROOT_CHAR = 0x5C;
    static final int ONES_OP = 0xFF;

    /** §20.2.4: a PkgLength of four bytes covers at most 2^28 - 1 bytes. */
    static final int MAX_PKG_LENGTH = (1 << 28) - 1;

    /**
     * §20.2.2 NameString: an optional root prefix {@code \} and dot-separated 4-character name
     * segments; shorter segments are padded with '_' as ASL does ("_S5" is "_S5_").
     */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String rest = path;
        if (rest.startsWith("\\")) {
            out.write(ROOT_CHAR);
            rest = rest.substring(1);
        }
        String[] segments = rest.split("\\.");
        if (segments.length == 2) out.write(DUAL_NAME_PREFIX);
        if (segments.length > 2) {
            if (segments.length > 255) throw new IllegalArgumentException("AML name \"" + path + "\" has more than 255 segments");
            out.write(MULTI_NAME_PREFIX);
            out.write(segments.length);
        }
        for (String s : segments) out.writeBytes(nameSegment(s, path));
        return out.toByteArray();
    }

    private static byte[] nameSegment(String segment, String path) {
        if (segment.isEmpty() || segment.length() > 4) {
            throw new IllegalArgumentException("AML name segment \"" + segment + "\" in \"" + path + "\" must have 1 to 4 characters");
        }
        // §20.2.2: LeadNameChar is 'A'-'Z' or '_'; later chars may also be digits.
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
            if (!ok) throw new IllegalArgumentException("AML name segment \"" + segment + "\" may only use A-Z, _ and (not first) 0-9");
        }
        return (segment + "___".substring(0, 4 - segment.length())).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * §20.2.4 PkgLength for {@code contentLength} bytes that follow it. The encoded length counts
     * the PkgLength bytes themselves. Up to 63 fits one byte; beyond that the lead byte holds the
     * count of extra bytes in bits 7:6 and the low nibble of the length in bits 3:0, and each
     * extra byte holds the next 8 bits.
     */
    public static byte[] pkgLength(int contentLength) {
        if (contentLength < 0) throw new IllegalArgumentException("negative AML package length");
        if (contentLength + 1 <= 0x3F) return new byte[] {(byte) (contentLength + 1)};
        for (int extra = 1; extra <= 3; extra++) {
            int total = contentLength + 1 + extra;
            if (total < (1 << (4 + 8 * extra))) {
                byte[] b = new byte[1 + extra];
                b[0] = (byte) ((extra << 6) | (total & 0x0F));
                for (int i = 1; i <= extra; i++) b[i] = (byte) (total >>> (4 + 8 * (i - 1)));
                return b;
            }
        }
        throw new IllegalArgumentException("AML package of " + contentLength + " bytes exceeds the PkgLength maximum " + MAX_PKG_LENGTH);
    }

    /** §20.2.3 ComputationalData: the shortest encoding of an unsigned integer. */
    public static byte[] integer(long value) {
        if (value == 0) return new byte[] {ZERO_OP};
        if (value == 1) return new byte[] {ONE_OP};
        if (value == -1L) return new byte[] {(byte) ONES_OP};
        AcpiByteWriter w = new AcpiByteWriter();
        if (value > 0 && value <= 0xFF) w.u8(BYTE_PREFIX).u8((int) value);
        else if (value > 0 && value <= 0xFFFF) w.u8(WORD_PREFIX).u16((int) value);
        else if (value > 0 && value <= 0xFFFF_FFFFL) w.u8(DWORD_PREFIX).u32(value);
        else w.u8(QWORD_PREFIX).u64(value);
        return w.toByteArray();
    }

    /** §20.2.3 String: ASCII characters 0x01–0x7F followed by a NUL. */
    public static byte[] string(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0 || c > 0x7F) throw new IllegalArgumentException("AML strings hold ASCII 0x01-0x7F only, got U+" + Integer.toHexString(c));
        }
        byte[] chars = s.getBytes(StandardCharsets.US_ASCII);
        return new AcpiByteWriter().u8(STRING_PREFIX).bytes(chars).u8(0).toByteArray();
    }

    /** §20.2.5.1 DefName: {@code Name(name, object)}. */
    public static byte[] name(String name, byte[] object) {
        return new AcpiByteWriter().u8(NAME_OP).bytes(nameString(name)).bytes(object).toByteArray();
    }

    /** §20.2.5.4 DefPackage: {@code Package(){elements}} with up to 255 elements. */
    public static byte[] packageOf(byte[]... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("an AML Package holds at most 255 elements, got " + elements.length + "; split it");
        }
        AcpiByteWriter content = new AcpiByteWriter().u8(elements.length);
        for (byte[] e : elements) content.bytes(e);
        byte[] c = content.toByteArray();
        return new AcpiByteWriter().u8(PACKAGE_OP).bytes(pkgLength(c.length)).bytes(c).toByteArray();
    }
}
