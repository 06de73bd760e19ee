package dev.jkvm.vmm.boot;

/** Little-endian field reads from a kernel image (x86 and its ELF files are little-endian). */
final class ImageBytes {
    private ImageBytes() {}

    static int u8(byte[] b, long offset) {
        return b[(int) offset] & 0xFF;
    }

    static int u16(byte[] b, long offset) {
        return u8(b, offset) | u8(b, offset + 1) << 8;
    }

    /** The 32-bit field as a Java int; use {@link #u32(byte[], long)} for the unsigned value. */
    static int s32(byte[] b, long offset) {
        return u16(b, offset) | u16(b, offset + 2) << 16;
    }

    static long u32(byte[] b, long offset) {
        return Integer.toUnsignedLong(s32(b, offset));
    }

    static long u64(byte[] b, long offset) {
        return u32(b, offset) | u32(b, offset + 4) << 32;
    }

    /** True when {@code [offset, offset+length)} lies inside the image (no overflow tricks). */
    static boolean contains(byte[] b, long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= b.length && length <= b.length - offset;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
