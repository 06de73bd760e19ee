package dev.jkvm.klib.asm;

/**
 * Multi-byte NOPs: the recommended forms of Intel SDM Vol. 2B "NOP" (Table 4-12) for 32/64-bit
 * code, with extra 0x66 prefixes beyond 9 bytes; 16-bit code uses the 16-bit-addressing
 * equivalents of {@code 0F 1F /0}.
 */
final class Nops {
    private static final int[][] WIDE = {
            {},
            {0x90},
            {0x66, 0x90},
            {0x0F, 0x1F, 0x00},
            {0x0F, 0x1F, 0x40, 0x00},
            {0x0F, 0x1F, 0x44, 0x00, 0x00},
            {0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00},
            {0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00},
            {0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
            {0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    private static final int[][] NARROW = {
            {},
            {0x90},
            {0x66, 0x90},
            {0x0F, 0x1F, 0x00},
            {0x0F, 0x1F, 0x40, 0x00},
            {0x0F, 0x1F, 0x80, 0x00, 0x00},
    };

    /** Longest single NOP instruction (the architectural instruction-length limit). */
    static final int MAX_LENGTH = 15;

    private Nops() {
    }

    /** One NOP instruction of exactly {@code length} (1..15) bytes. */
    static byte[] single(int length, Mode mode) {
        if (length < 1 || length > MAX_LENGTH) {
            throw new AsmException("nop(" + length + "): a single NOP is 1 to 15 bytes long; call nop repeatedly for more");
        }
        int[][] table = mode == Mode.REAL16 ? NARROW : WIDE;
        int[] form = table[Math.min(length, table.length - 1)];
        int prefixes = length - form.length;
        byte[] out = new byte[length];
        for (int i = 0; i < prefixes; i++) {
            out[i] = 0x66;
        }
        for (int i = 0; i < form.length; i++) {
            out[prefixes + i] = (byte) form[i];
        }
        return out;
    }

    /** {@code length} bytes of NOP instructions, at most 9 bytes each (longer prefixed forms decode slowly). */
    static byte[] fill(long length, Mode mode) {
        byte[] out = new byte[Math.toIntExact(length)];
        int pos = 0;
        while (pos < out.length) {
            int n = Math.min(9, out.length - pos);
            byte[] one = single(n, mode);
            System.arraycopy(one, 0, out, pos, n);
            pos += n;
        }
        return out;
    }
}
