package dev.jkvm.vmm.emulated.cpu;

/**
 * RFLAGS with lazily computed arithmetic flags (the encoding of {@link LazyFlags#op}).
 *
 * <p>A flag-setting instruction records its operation, operands, result and size; CF, PF, AF, ZF,
 * SF and OF are derived only when read (Jcc, SETcc, PUSHF, an instruction that keeps some flags).
 * Flag definitions: SDM Vol. 1 §3.4.3.1 and each instruction's "Flags Affected". Where the SDM
 * leaves a flag undefined we produce what QEMU TCG produces (AF = 0 after logic, shift and multiply
 * operations; OF of a multi-bit shift computed like a 1-bit one), so lockstep runs agree.
 */
public final class Flags {
    private Flags() {}

    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
            DF = 1 << 10, OF = 1 << 11;
    /** The six arithmetic flags kept lazily. */
    public static final long ARITH = CF | PF | AF | ZF | SF | OF;

    // LazyFlags.op values.
    /** {@link LazyFlags#materialized} holds the flags. */
    static final int MATERIALIZED = 0;
    static final int ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, SHL = 8, SHR = 9, SAR = 10, MUL = 11;

    // ------------------------------------------------------------------ whole register

    /** The full RFLAGS value. */
    public static long get(CpuState s) {
        return (s.rflagsRest & ~ARITH) | materialize(s.flags);
    }

    /** Sets the whole RFLAGS register (bit 1 always reads as 1, SDM Vol. 1 §3.4.3). Callers enforce privilege rules. */
    public static void set(CpuState s, long value) {
        s.rflagsRest = (value & ~ARITH) | 2;
        LazyFlags f = s.flags;
        f.op = MATERIALIZED;
        f.materialized = value & ARITH;
    }

    /** The six arithmetic flags in their RFLAGS positions. */
    public static long materialize(LazyFlags f) {
        if (f.op == MATERIALIZED) return f.materialized;
        return cf(f) | pf(f) | af(f) | zf(f) | sf(f) | of(f);
    }

    /** Replaces the arithmetic flags in {@code mask} with {@code bits}, keeping the others. */
    static void setSome(LazyFlags f, long mask, long bits) {
        long cur = materialize(f);
        f.op = MATERIALIZED;
        f.materialized = (cur & ~mask) | (bits & mask);
    }

    // ------------------------------------------------------------------ recording

    static void record(LazyFlags f, int op, long dst, long src, long result, int size) {
        f.op = op;
        f.dst = dst;
        f.src = src;
        f.result = result;
        f.size = size;
    }

    /** INC/DEC keep CF (SDM Vol. 2A INC/DEC): remember it in {@link LazyFlags#materialized}. */
    static void recordIncDec(LazyFlags f, int op, long dst, long result, int size) {
        long carry = cf(f);
        f.materialized = carry;
        f.op = op;
        f.dst = dst;
        f.src = 1;
        f.result = result;
        f.size = size;
    }

    /** ADC/SBB: carry-in is needed to derive CF afterwards; kept in {@link LazyFlags#materialized}. */
    static void recordCarry(LazyFlags f, int op, long dst, long src, long result, int size, long carryIn) {
        f.materialized = carryIn;
        f.op = op;
        f.dst = dst;
        f.src = src;
        f.result = result;
        f.size = size;
    }

    // ------------------------------------------------------------------ single flags

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size << 3)) - 1;
    }

    static long signBit(int size) {
        return 1L << ((size << 3) - 1);
    }

    static long cf(LazyFlags f) {
        long m;
        switch (f.op) {
            case MATERIALIZED: return f.materialized & CF;
            case ADD: m = mask(f.size); return Long.compareUnsigned(f.result & m, f.dst & m) < 0 ? CF : 0;
            case ADC: {
                m = mask(f.size);
                int c = Long.compareUnsigned(f.result & m, f.dst & m);
                return (f.materialized != 0 ? c <= 0 : c < 0) ? CF : 0;
            }
            case SUB: m = mask(f.size); return Long.compareUnsigned(f.dst & m, f.src & m) < 0 ? CF : 0;
            case SBB: {
                m = mask(f.size);
                int c = Long.compareUnsigned(f.dst & m, f.src & m);
                return (f.materialized != 0 ? c <= 0 : c < 0) ? CF : 0;
            }
            case INC, DEC: return f.materialized & CF;
            case SHL: return (f.src & signBit(f.size)) != 0 ? CF : 0;
            case SHR, SAR: return f.src & 1;
            case MUL: return f.src != 0 ? CF : 0;
            default: return 0; // LOGIC
        }
    }

    static long of(LazyFlags f) {
        long sign;
        switch (f.op) {
            case MATERIALIZED: return f.materialized & OF;
            case ADD, ADC: sign = signBit(f.size); return ((f.dst ^ f.result) & (f.src ^ f.result) & sign) != 0 ? OF : 0;
            case SUB, SBB: sign = signBit(f.size); return ((f.dst ^ f.src) & (f.dst ^ f.result) & sign) != 0 ? OF : 0;
            case INC: return (f.result & mask(f.size)) == signBit(f.size) ? OF : 0;
            case DEC: return (f.dst & mask(f.size)) == signBit(f.size) ? OF : 0;
            case SHL, SHR, SAR: return ((f.src ^ f.result) & signBit(f.size)) != 0 ? OF : 0;
            case MUL: return f.src != 0 ? OF : 0;
            default: return 0;
        }
    }

    static long af(LazyFlags f) {
        switch (f.op) {
            case MATERIALIZED: return f.materialized & AF;
            case ADD, ADC, SUB, SBB, INC, DEC: return (f.dst ^ f.src ^ f.result) & AF;
            default: return 0;
        }
    }

    static long zf(LazyFlags f) {
        if (f.op == MATERIALIZED) return f.materialized & ZF;
        return (f.result & mask(f.size)) == 0 ? ZF : 0;
    }

    static long sf(LazyFlags f) {
        if (f.op == MATERIALIZED) return f.materialized & SF;
        return (f.result & signBit(f.size)) != 0 ? SF : 0;
    }

    static long pf(LazyFlags f) {
        if (f.op == MATERIALIZED) return f.materialized & PF;
        // PF: set when the low byte of the result has an even number of 1 bits (SDM Vol. 1 §3.4.3.1).
        return (Integer.bitCount((int) f.result & 0xFF) & 1) == 0 ? PF : 0;
    }

    /** Condition code {@code cc} (SDM Vol. 1 Appendix B, Table B-1: 0 O, 1 NO, 2 B ... 15 G). */
    static boolean condition(LazyFlags f, int cc) {
        if (f.op == SUB) {
            // After CMP/SUB the condition is a comparison of the operands (no flag materialized).
            int sh = 64 - (f.size << 3);
            long a = f.dst << sh, b = f.src << sh; // operands in the top bits: signed and unsigned order preserved
            boolean r;
            switch (cc >>> 1) {
                case 1: r = Long.compareUnsigned(a, b) < 0; break;
                case 2: r = a == b; break;
                case 3: r = Long.compareUnsigned(a, b) <= 0; break;
                case 6: r = a < b; break;
                case 7: r = a <= b; break;
                default: return conditionSlow(f, cc);
            }
            return r != ((cc & 1) != 0);
        }
        if (f.op == LOGIC) {
            // After TEST/AND/OR/XOR: CF = OF = 0, ZF and SF from the result (SDM Vol. 2A TEST, "Flags Affected").
            long r = f.result << (64 - (f.size << 3)); // the result's sign bit on top, its other bits below
            boolean c;
            switch (cc >>> 1) {
                case 0, 1: c = false; break;          // O, B
                case 2, 3: c = r == 0; break;         // E, BE (CF = 0)
                case 4, 6: c = r < 0; break;          // S, L (SF != OF with OF = 0)
                case 7: c = r <= 0; break;            // LE: ZF or SF
                default: return conditionSlow(f, cc); // P
            }
            return c != ((cc & 1) != 0);
        }
        return conditionSlow(f, cc);
    }

    private static boolean conditionSlow(LazyFlags f, int cc) {
        boolean r;
        switch (cc >>> 1) {
            case 0: r = of(f) != 0; break;
            case 1: r = cf(f) != 0; break;
            case 2: r = zf(f) != 0; break;
            case 3: r = cf(f) != 0 || zf(f) != 0; break;
            case 4: r = sf(f) != 0; break;
            case 5: r = pf(f) != 0; break;
            case 6: r = (sf(f) != 0) != (of(f) != 0); break;
            default: r = zf(f) != 0 || (sf(f) != 0) != (of(f) != 0); break;
        }
        return r != ((cc & 1) != 0);
    }
}
