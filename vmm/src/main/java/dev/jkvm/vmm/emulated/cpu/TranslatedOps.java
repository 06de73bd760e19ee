package dev.jkvm.vmm.emulated.cpu;

/**
 * Small operations the translated code calls with constant sizes (HotSpot inlines them): the
 * parts of {@link Executor}'s handlers that are more than a few bytecodes.
 */
final class TranslatedOps {
    private TranslatedOps() {}

    /** IMUL at 64 bits: 1 when the signed product of x and y does not fit 64 bits (CF = OF = 1, SDM Vol. 2A IMUL), else 0. */
    static long overflow64(long x, long y) {
        return Math.multiplyHigh(x, y) != (x * y >> 63) ? 1 : 0;
    }

    /** The same at 32 bits, given the 64-bit product {@code r} of the sign-extended operands. */
    static long overflow32(long r) {
        return r != (int) r ? 1 : 0;
    }
}
