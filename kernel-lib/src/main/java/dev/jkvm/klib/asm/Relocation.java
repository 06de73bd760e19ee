package dev.jkvm.klib.asm;

/**
 * A field in a section whose value depends on where sections are loaded.
 *
 * <p>Semantics follow ELF RELA: absolute kinds store {@code S + A}; PC-relative kinds store
 * {@code S + A - P}, where S is the target label's address, A the addend and P the address of
 * the field itself. The field's bytes in {@link Section#bytes()} are zero. Each kind is the
 * System V x86-64 psABI relocation type named on it (AMD64 Architecture Processor Supplement,
 * section 4.4.1 "Relocation Types"); {@link SectionPlacement} applies them.
 *
 * @param offset byte offset of the field within its section
 * @param kind   field width and arithmetic
 * @param target the label whose address is used
 * @param addend the constant A
 */
public record Relocation(long offset, Kind kind, Label target, long addend) {

    /** Field kinds. */
    public enum Kind {
        /** 16-bit absolute address (real-mode code): R_X86_64_16, word16, S + A. */
        ABS16(2, false),
        /**
         * 32-bit absolute address, zero-extended by the CPU: must fit in 32 bits unsigned.
         * R_X86_64_32, word32, S + A.
         */
        ABS32(4, false),
        /**
         * 32-bit absolute address sign-extended to 64 bits (disp32 and imm32 in 64-bit mode):
         * R_X86_64_32S, word32, S + A.
         */
        ABS32S(4, false),
        /** 64-bit absolute address: R_X86_64_64, word64, S + A. */
        ABS64(8, false),
        /** 16-bit PC-relative displacement: R_X86_64_PC16, word16, S + A - P. */
        PC16(2, true),
        /**
         * 32-bit PC-relative displacement (call/jmp rel32, RIP-relative operands):
         * R_X86_64_PC32, word32, S + A - P.
         */
        PC32(4, true);

        private final int width;
        private final boolean pcRelative;

        Kind(int width, boolean pcRelative) {
            this.width = width;
            this.pcRelative = pcRelative;
        }

        /** Field width in bytes. */
        public int width() {
            return width;
        }

        /** True when the value is relative to the field's own address. */
        public boolean isPcRelative() {
            return pcRelative;
        }
    }

    /**
     * Computes the value and writes it into {@code image} at {@code fieldIndex} (little endian).
     *
     * @param fieldAddress  load address of the field (P)
     * @param targetAddress load address of {@link #target()} (S)
     */
    public void apply(byte[] image, int fieldIndex, long fieldAddress, long targetAddress) {
        long value = targetAddress + addend - (kind.pcRelative ? fieldAddress : 0);
        checkRange(value);
        for (int i = 0; i < kind.width; i++) {
            image[fieldIndex + i] = (byte) (value >>> (8 * i));
        }
    }

    private void checkRange(long value) {
        long bits = kind.width * 8L;
        if (bits == 64) {
            return;
        }
        long min;
        long max;
        if (kind == Kind.PC16) {
            // 16-bit IP arithmetic wraps modulo 64 KiB, so any distance within the segment is reachable.
            min = -0xFFFF;
            max = 0xFFFF;
        } else if (kind.pcRelative || kind == Kind.ABS32S) {
            min = -(1L << (bits - 1));
            max = (1L << (bits - 1)) - 1;
        } else {
            min = -(1L << (bits - 1));
            max = (1L << bits) - 1;
        }
        if (value < min || value > max) {
            throw new AsmException("relocation " + kind + " to " + target + " at offset 0x" + Long.toHexString(offset)
                    + " does not fit: value 0x" + Long.toHexString(value) + " exceeds " + bits + " bits"
                    + (kind.pcRelative ? " (place the target closer)"
                    : kind == Kind.ABS32S ? " (sign-extended: keep the target below 2 GiB or use movabs)"
                    : " (load the image lower)"));
        }
    }
}
