package dev.jkvm.vmm.emulated.cpu;

/**
 * Small operations the translated code calls with constant sizes (HotSpot inlines them): the
 * parts of {@link Executor}'s handlers that are more than a few bytecodes.
 */
final class TranslatedOps {
    private TranslatedOps() {}

    /** IMUL r, r/m(, imm) at 64 bits: CF = OF = the product does not fit (SDM Vol. 2A IMUL); the low half. */
    static long imul64(LazyFlags f, long x, long y) {
        long r = x * y;
        boolean overflow = Math.multiplyHigh(x, y) != (r >> 63);
        Flags.record(f, Flags.MUL, 0, overflow ? 1 : 0, r, 8);
        return r;
    }

    /** The same at 32 bits: operands sign-extended, the product zero-extended into the register. */
    static long imul32(LazyFlags f, long a, long b) {
        long r = (long) (int) a * (int) b;
        boolean overflow = r != (int) r;
        Flags.record(f, Flags.MUL, 0, overflow ? 1 : 0, r, 4);
        return r & 0xFFFF_FFFFL;
    }
}
