package dev.jkvm.vmm.emulated.cpu;

import java.math.BigInteger;

/**
 * SSE/SSE2 floating-point arithmetic, comparisons and conversions (scalar SS/SD and packed PS/PD),
 * with MXCSR rounding control, exception flags, masks, DAZ and FTZ (SDM Vol. 1 §10.2.3, §11.5,
 * §4.8.3.5 and §4.9; Vol. 2 per instruction).
 *
 * <p>The operation is {@link Insn#ext} = {@link SseOp#FLOAT} | opcode byte &lt;&lt; 2 | mandatory
 * prefix (0 none = PS, 1 66 = PD, 2 F3 = SS, 3 F2 = SD), so the decoder only validates the pair.
 *
 * <p>Numbers: a fast path computes in round-to-nearest Java arithmetic when operands and result are
 * far from the format's limits (inexactness from the exact error term: TwoSum, fma product error,
 * fma remainder for division and square root). Everything else (other rounding modes, denormals,
 * results near underflow or overflow) takes the exact path: the exact result as an integer
 * significand times a power of two plus a sticky bit, rounded once by {@link #round} — so the
 * result and the PE/UE/OE flags are those of IEEE 754 with x86's tininess detection after rounding.
 * Element values are handled as raw bits so NaN payloads survive (Java's float/double conversions
 * do not promise that).
 *
 * <p>Unmasked exceptions: the flags are ORed into MXCSR and #XM (CR4.OSXMMEXCPT = 1) or #UD is
 * raised without writing the destination (SDM Vol. 1 §11.5.1).
 */
final class SseFloat {
    static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, DAZ = 1 << 6, FZ = 1 << 15;
    private static final long CR4_OSXMMEXCPT = 1 << 10;
    private static final long QNAN_D = 0xFFF8_0000_0000_0000L, QNAN_S = 0xFFC0_0000L;

    private final Executor ex;
    private final X86Cpu cpu;
    private final CpuState s;
    /** MXCSR at the start of the instruction and the exception flags it has raised so far. */
    private int mx, flags;

    SseFloat(Executor ex) {
        this.ex = ex;
        this.cpu = ex.cpu;
        this.s = ex.s;
    }

    /** Decoder: 1 = a form this class executes, 0 = #UD, -1 = a valid but unimplemented form (MMX operands, RCP/RSQRT). */
    static int form(int b, int mandatory) {
        return switch (b) {
            case 0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x5A, 0xC2 -> 1;
            case 0x52, 0x53 -> mandatory == 0 || mandatory == 2 ? -1 : 0;
            case 0x5B -> mandatory == 3 ? 0 : 1;
            case 0x2A, 0x2C, 0x2D -> mandatory >= 2 ? 1 : -1;
            case 0x2E, 0x2F -> mandatory <= 1 ? 1 : 0;
            case 0xE6 -> mandatory == 0 ? 0 : 1;
            default -> 0;
        };
    }

    // ------------------------------------------------------------------ execution

    void execute(Insn in) {
        long[] x = s.xmm;
        int d = 2 * in.reg;
        int b = (in.ext >> 2) & 0xFF;
        int pfx = in.ext & 3;
        boolean dbl = pfx == 1 || pfx == 3;
        boolean scalar = pfx >= 2;
        mx = s.mxcsr;
        flags = 0;
        switch (b) {
            case 0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2 -> {
                int imm = (int) in.imm & 7;
                if (scalar) {
                    long src = scalarSource(in, dbl);
                    long r = dbl ? binary(b, x[d], src, true, imm) : binary(b, x[d] & 0xFFFF_FFFFL, src, false, imm);
                    commit();
                    x[d] = dbl ? r : (x[d] & 0xFFFF_FFFF_0000_0000L) | r;
                } else {
                    long[] src = packedSource(in, true);
                    long lo, hi;
                    if (dbl) {
                        lo = binary(b, x[d], src[0], true, imm);
                        hi = binary(b, x[d + 1], src[1], true, imm);
                    } else {
                        lo = pair(binary(b, x[d] & 0xFFFF_FFFFL, src[0] & 0xFFFF_FFFFL, false, imm),
                                binary(b, x[d] >>> 32, src[0] >>> 32, false, imm));
                        hi = pair(binary(b, x[d + 1] & 0xFFFF_FFFFL, src[1] & 0xFFFF_FFFFL, false, imm),
                                binary(b, x[d + 1] >>> 32, src[1] >>> 32, false, imm));
                    }
                    commit();
                    x[d] = lo;
                    x[d + 1] = hi;
                }
            }
            case 0x2E, 0x2F -> comi(in, dbl, b == 0x2F);
            case 0x5A -> convertFormat(in, pfx);
            case 0x2A -> {
                long v = in.mod == 3 ? s.gpr[in.rm] : cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), in.size);
                if (in.size == 4) v = (int) v;
                long r = fromInteger(v, dbl);
                commit();
                x[d] = dbl ? r : (x[d] & 0xFFFF_FFFF_0000_0000L) | r;
            }
            case 0x2C, 0x2D -> {
                long v = scalarSource(in, dbl);
                long r = toInteger(v, dbl, in.size == 8, b == 0x2C);
                commit();
                Operands.writeReg(cpu, in, in.reg, in.size, r);
            }
            case 0x5B -> {
                long[] src = packedSource(in, true);
                long lo, hi;
                if (pfx == 0) { // CVTDQ2PS
                    lo = pair(fromInteger((int) src[0], false), fromInteger((int) (src[0] >>> 32), false));
                    hi = pair(fromInteger((int) src[1], false), fromInteger((int) (src[1] >>> 32), false));
                } else { // CVTPS2DQ (66), CVTTPS2DQ (F3)
                    boolean t = pfx == 2;
                    lo = pair(toInteger(src[0] & 0xFFFF_FFFFL, false, false, t), toInteger(src[0] >>> 32, false, false, t));
                    hi = pair(toInteger(src[1] & 0xFFFF_FFFFL, false, false, t), toInteger(src[1] >>> 32, false, false, t));
                }
                commit();
                x[d] = lo;
                x[d + 1] = hi;
            }
            case 0xE6 -> {
                long lo, hi = 0;
                if (pfx == 2) { // CVTDQ2PD xmm, xmm/m64
                    long v = in.mod == 3 ? x[2 * in.rm] : cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8);
                    lo = fromInteger((int) v, true);
                    hi = fromInteger((int) (v >>> 32), true);
                } else { // CVTTPD2DQ (66), CVTPD2DQ (F2)
                    long[] src = packedSource(in, true);
                    boolean t = pfx == 1;
                    lo = pair(toInteger(src[0], true, false, t), toInteger(src[1], true, false, t));
                }
                commit();
                x[d] = lo;
                x[d + 1] = hi;
            }
            default -> throw new IllegalStateException("SSE floating-point op " + Integer.toHexString(in.ext));
        }
    }

    private static long pair(long lo, long hi) {
        return (lo & 0xFFFF_FFFFL) | hi << 32;
    }

    private long scalarSource(Insn in, boolean dbl) {
        if (in.mod == 3) return dbl ? s.xmm[2 * in.rm] : s.xmm[2 * in.rm] & 0xFFFF_FFFFL;
        return cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), dbl ? 8 : 4);
    }

    private final long[] packed = new long[2];

    private long[] packedSource(Insn in, boolean aligned) {
        if (in.mod == 3) {
            packed[0] = s.xmm[2 * in.rm];
            packed[1] = s.xmm[2 * in.rm + 1];
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            // Legacy-SSE 128-bit memory operands must be 16-byte aligned (SDM Vol. 2 "SIMD Floating-Point Exceptions" tables: #GP(0)).
            if (aligned && ((off + ex.segmentBase(in)) & 15) != 0) throw cpu.ex.raise(CpuException.GP, 0);
            packed[0] = cpu.mmu.read(in.segment, off, 8);
            packed[1] = cpu.mmu.read(in.segment, off + 8, 8);
        }
        return packed;
    }

    /** Ends the instruction's computation: flags into MXCSR; an unmasked one raises #XM or #UD (SDM Vol. 1 §11.5.1, Vol. 3 §6.15 #XM). */
    private void commit() {
        if (flags == 0) return;
        int unmasked = flags & ~(mx >>> 7) & 0x3F;
        // An unmasked pre-computation exception (IE, DE, ZE) in any element stops the instruction before
        // the post-computation step, so no element's OE/UE/PE is reported (SDM Vol. 1 §11.5.3).
        s.mxcsr |= (unmasked & (IE | DE | ZE)) != 0 ? flags & (IE | DE | ZE) : flags;
        if (unmasked != 0) {
            if ((s.cr4 & CR4_OSXMMEXCPT) != 0) throw cpu.ex.raise(CpuException.XM, CpuException.NO_ERROR_CODE);
            throw cpu.ex.raise(CpuException.UD, CpuException.NO_ERROR_CODE);
        }
    }

    private boolean masked(int flag) {
        return (mx & flag << 7) != 0;
    }

    private int rc() {
        return (mx >>> 13) & 3;
    }

    // ------------------------------------------------------------------ bit-level classification

    private static boolean isNaN(long v, boolean dbl) {
        return dbl ? (v & 0x7FFF_FFFF_FFFF_FFFFL) > 0x7FF0_0000_0000_0000L : (v & 0x7FFF_FFFFL) > 0x7F80_0000L;
    }

    private static boolean isSNaN(long v, boolean dbl) {
        return isNaN(v, dbl) && (v & (dbl ? 1L << 51 : 1L << 22)) == 0;
    }

    private static long quiet(long v, boolean dbl) {
        return v | (dbl ? 1L << 51 : 1L << 22);
    }

    private static boolean isInf(long v, boolean dbl) {
        return dbl ? (v & 0x7FFF_FFFF_FFFF_FFFFL) == 0x7FF0_0000_0000_0000L : (v & 0x7FFF_FFFFL) == 0x7F80_0000L;
    }

    private static boolean isZero(long v, boolean dbl) {
        return dbl ? (v & 0x7FFF_FFFF_FFFF_FFFFL) == 0 : (v & 0x7FFF_FFFFL) == 0;
    }

    private static boolean isDenormal(long v, boolean dbl) {
        return dbl ? (v & 0x7FF0_0000_0000_0000L) == 0 && (v & 0x000F_FFFF_FFFF_FFFFL) != 0
                : (v & 0x7F80_0000L) == 0 && (v & 0x007F_FFFFL) != 0;
    }

    private static boolean negative(long v, boolean dbl) {
        return dbl ? v < 0 : (v & 0x8000_0000L) != 0;
    }

    private static int exponentField(long v, boolean dbl) {
        return dbl ? (int) (v >>> 52) & 0x7FF : (int) (v >>> 23) & 0xFF;
    }

    private static long signBit(boolean dbl) {
        return dbl ? Long.MIN_VALUE : 0x8000_0000L;
    }

    private static long indefinite(boolean dbl) {
        return dbl ? QNAN_D : QNAN_S;
    }

    private static double value(long v, boolean dbl) {
        return dbl ? Double.longBitsToDouble(v) : Float.intBitsToFloat((int) v);
    }

    private static long bits(double v, boolean dbl) {
        return dbl ? Double.doubleToRawLongBits(v) : Float.floatToRawIntBits((float) v) & 0xFFFF_FFFFL;
    }

    /** MXCSR.DAZ: a denormal source is a zero of the same sign and signals no DE (SDM Vol. 1 §10.2.3.4). */
    private long daz(long v, boolean dbl) {
        if ((mx & DAZ) != 0 && isDenormal(v, dbl)) return v & signBit(dbl);
        return v;
    }

    /** Normal (not zero, denormal, infinite or NaN) and far enough from the limits for the fast path. */
    private static boolean comfortable(long v, boolean dbl) {
        int e = exponentField(v, dbl);
        return dbl ? e >= 1023 - 400 && e <= 1023 + 400 : e >= 1 && e <= 254;
    }

    // ------------------------------------------------------------------ arithmetic

    /** ADD/SUB/MUL/DIV/MIN/MAX/SQRT/CMP on one element (raw bits of the format). */
    private long binary(int op, long a, long b, boolean dbl, int predicate) {
        a = daz(a, dbl);
        b = daz(b, dbl);
        boolean nanA = isNaN(a, dbl), nanB = isNaN(b, dbl);
        switch (op) {
            case 0x5D, 0x5F -> { // MIN/MAX: a NaN or two zeros give the second operand; any NaN is invalid (Vol. 2 MINPS/MAXPS)
                if (nanA || nanB) { flags |= IE; return b; }
                if (isDenormal(a, dbl) || isDenormal(b, dbl)) flags |= DE;
                if (isZero(a, dbl) && isZero(b, dbl)) return b;
                double va = value(a, dbl), vb = value(b, dbl);
                return (op == 0x5D ? va < vb : va > vb) ? a : b;
            }
            case 0xC2 -> { // CMPccPS/PD/SS/SD: LT/LE/NLT/NLE signal on QNaNs, the others on SNaNs only (Vol. 2 CMPPS table)
                boolean signaling = (predicate & 3) == 1 || (predicate & 3) == 2;
                if (nanA || nanB) {
                    if (signaling || isSNaN(a, dbl) || isSNaN(b, dbl)) flags |= IE;
                } else if (isDenormal(a, dbl) || isDenormal(b, dbl)) {
                    flags |= DE;
                }
                double va = value(a, dbl), vb = value(b, dbl);
                boolean unordered = nanA || nanB;
                boolean r = switch (predicate) {
                    case 0 -> va == vb;
                    case 1 -> va < vb;
                    case 2 -> va <= vb;
                    case 3 -> unordered;
                    case 4 -> !(va == vb);
                    case 5 -> !(va < vb);
                    case 6 -> !(va <= vb);
                    default -> !unordered;
                };
                return r ? (dbl ? -1L : 0xFFFF_FFFFL) : 0;
            }
            case 0x51 -> { // SQRT: the source operand only
                if (nanB) {
                    if (isSNaN(b, dbl)) flags |= IE;
                    return quiet(b, dbl);
                }
                if (negative(b, dbl) && !isZero(b, dbl)) { flags |= IE; return indefinite(dbl); }
                if (isDenormal(b, dbl)) flags |= DE;
                if (isZero(b, dbl) || isInf(b, dbl)) return b;
                if (rc() == 0 && comfortable(b, dbl)) {
                    double v = value(b, dbl), q = Math.sqrt(v);
                    if (Math.fma(-q, q, v) != 0 || !dbl && (float) q != q) flags |= PE;
                    return bits(q, dbl);
                }
                return sqrtExact(b, dbl);
            }
            default -> { }
        }
        // ADD, SUB, MUL, DIV. NaN operands: SDM Vol. 1 Table 4-7 (SSE: the first source, quieted, else the second).
        if (nanA || nanB) {
            if (isSNaN(a, dbl) || isSNaN(b, dbl)) flags |= IE;
            return nanA ? quiet(a, dbl) : quiet(b, dbl);
        }
        if (op == 0x5C) b ^= signBit(dbl);
        boolean infA = isInf(a, dbl), infB = isInf(b, dbl), zeroA = isZero(a, dbl), zeroB = isZero(b, dbl);
        boolean neg = negative(a, dbl) ^ negative(b, dbl);
        long inf = (dbl ? 0x7FF0_0000_0000_0000L : 0x7F80_0000L) | (neg ? signBit(dbl) : 0);
        // Precedence (SDM Vol. 1 §4.9.2, checked against the host processor): invalid, then divide-by-zero
        // (without DE), then DE — which an infinite operand does not suppress.
        boolean invalid = switch (op) {
            case 0x58, 0x5C -> infA && infB && neg;
            case 0x59 -> infA && zeroB || zeroA && infB;
            default -> infA && infB || zeroA && zeroB;
        };
        if (invalid) { flags |= IE; return indefinite(dbl); }
        if (op == 0x5E && zeroB && !infA) { flags |= ZE; return inf; }
        if (isDenormal(a, dbl) || isDenormal(b, dbl)) flags |= DE;
        switch (op) {
            case 0x58, 0x5C -> { if (infA || infB) return infA ? a : b; }
            case 0x59 -> { if (infA || infB) return inf; }
            default -> {
                if (infA) return inf;
                if (infB) return neg ? signBit(dbl) : 0;
            }
        }
        if (rc() == 0 && comfortable(a, dbl) && comfortable(b, dbl)) {
            double va = value(a, dbl), vb = value(b, dbl), r;
            boolean inexact;
            switch (op) {
                case 0x58, 0x5C -> {
                    r = va + vb;
                    double bb = r - va; // TwoSum (Knuth): the exact error of the rounded sum
                    inexact = (va - (r - bb)) + (vb - bb) != 0;
                }
                case 0x59 -> { r = va * vb; inexact = Math.fma(va, vb, -r) != 0; }
                default -> { r = va / vb; inexact = Math.fma(-r, vb, va) != 0; }
            }
            int e = Math.getExponent(r);
            if (dbl ? e >= -400 && e <= 400 : e >= -125 && e <= 126) {
                if (inexact || !dbl && (float) r != r) flags |= PE;
                return bits(r, dbl);
            }
        }
        return exact(op, a, b, dbl);
    }

    // ------------------------------------------------------------------ exact path

    private static long significand(long v, boolean dbl) {
        int e = exponentField(v, dbl);
        long f = dbl ? v & 0x000F_FFFF_FFFF_FFFFL : v & 0x007F_FFFFL;
        return e == 0 ? f : f | (dbl ? 1L << 52 : 1L << 23);
    }

    /** Exponent of the significand's unit bit: value = significand · 2^this. */
    private static int scale(long v, boolean dbl) {
        int e = Math.max(exponentField(v, dbl), 1);
        return dbl ? e - 1075 : e - 150;
    }

    private long zeroResult(boolean neg, boolean dbl) {
        return neg ? signBit(dbl) : 0;
    }

    /** ADD/SUB (b already negated for SUB)/MUL/DIV of finite operands, a divisor not zero. */
    private long exact(int op, long a, long b, boolean dbl) {
        boolean na = negative(a, dbl), nb = negative(b, dbl);
        BigInteger ma = BigInteger.valueOf(significand(a, dbl)), mb = BigInteger.valueOf(significand(b, dbl));
        int ea = scale(a, dbl), eb = scale(b, dbl);
        int p = dbl ? 53 : 24;
        switch (op) {
            case 0x58, 0x5C -> {
                int e = Math.min(ea, eb);
                BigInteger sa = ma.shiftLeft(ea - e), sb = mb.shiftLeft(eb - e);
                BigInteger sum = (na ? sa.negate() : sa).add(nb ? sb.negate() : sb);
                // An exact zero sum is +0, or -0 when rounding down or both operands are -0 (IEEE 754 §6.3).
                if (sum.signum() == 0) return zeroResult(na && nb || na != nb && rc() == 1, dbl);
                return round(sum.signum() < 0, sum.abs(), e, false, dbl);
            }
            case 0x59 -> {
                if (ma.signum() == 0 || mb.signum() == 0) return zeroResult(na ^ nb, dbl);
                return round(na ^ nb, ma.multiply(mb), ea + eb, false, dbl);
            }
            default -> {
                if (ma.signum() == 0) return zeroResult(na ^ nb, dbl);
                int k = Math.max(0, p + 3 + mb.bitLength() - ma.bitLength());
                BigInteger[] qr = ma.shiftLeft(k).divideAndRemainder(mb);
                return round(na ^ nb, qr[0], ea - eb - k, qr[1].signum() != 0, dbl);
            }
        }
    }

    private long sqrtExact(long b, boolean dbl) {
        BigInteger m = BigInteger.valueOf(significand(b, dbl));
        int e = scale(b, dbl);
        if ((e & 1) != 0) { m = m.shiftLeft(1); e--; }
        int p = dbl ? 53 : 24;
        int k = Math.max(0, (2 * p + 7 - m.bitLength()) / 2 + 1);
        BigInteger n = m.shiftLeft(2 * k);
        BigInteger r = n.sqrt();
        return round(false, r, (e - 2 * k) / 2, !r.multiply(r).equals(n), dbl);
    }

    /**
     * Rounds m·2^e (m &gt; 0; sticky: a further nonzero amount below 2^e) with sign {@code neg} to
     * the format per MXCSR.RC, FZ and the OM/UM masks, accumulating PE, UE, OE (SDM Vol. 1 §4.9.1.4,
     * §4.9.1.5: tininess is detected after rounding with unbounded exponent; masked underflow is signalled only when the
     * result is also inexact; FTZ with UM masked gives a signed zero and UE, PE).
     */
    private long round(boolean neg, BigInteger m, int e, boolean sticky, boolean dbl) {
        int p = dbl ? 53 : 24, emin = dbl ? -1022 : -126, emax = dbl ? 1023 : 127;
        int exp = e + m.bitLength() - 1;
        boolean tiny = tinyAfterRounding(neg, m, e, sticky, p, emin);
        if (tiny && (mx & FZ) != 0 && masked(UE)) {
            flags |= UE | PE;
            return zeroResult(neg, dbl);
        }
        int q = Math.max(exp - p + 1, emin - p + 1);
        int shift = q - e;
        long mant = roundedMantissa(neg, m, shift, sticky);
        boolean inexact = inexact(m, shift, sticky);
        if (mant == 1L << p) { mant >>>= 1; q++; }
        if (q + 63 - Long.numberOfLeadingZeros(mant) > emax) {
            // Overflow (§4.9.1.4): masked, infinity or the largest finite number by RC and sign.
            flags |= OE | PE;
            int rc = rc();
            boolean toInf = rc == 0 || rc == 1 && neg || rc == 2 && !neg;
            long mag = toInf ? (dbl ? 0x7FF0_0000_0000_0000L : 0x7F80_0000L) : (dbl ? 0x7FEF_FFFF_FFFF_FFFFL : 0x7F7F_FFFFL);
            return mag | (neg ? signBit(dbl) : 0);
        }
        if (tiny) {
            if (!masked(UE)) flags |= UE | (inexact ? PE : 0);
            else if (inexact) flags |= UE | PE;
        } else if (inexact) {
            flags |= PE;
        }
        double v = Math.scalb((double) mant, q);
        return bits(neg ? -v : v, dbl);
    }

    /**
     * Whether m·2^e (+ sticky), rounded to p bits per RC with an unbounded exponent, is below 2^emin:
     * x86's tininess (SDM Vol. 1 §4.9.1.5), also what FTZ flushes; the host processor agrees and
     * disagrees with detection before rounding (HostSseFloatOracleTest#productsAtTheUnderflowBoundary).
     */
    private boolean tinyAfterRounding(boolean neg, BigInteger m, int e, boolean sticky, int p, int emin) {
        int exp = e + m.bitLength() - 1;
        if (exp >= emin) return false;
        if (exp < emin - 1) return true;
        // m·2^e has p bits here (2^(p-1) <= mantissa < 2^p): it stays below 2^emin unless
        // rounding carries it to 2^p.
        return roundedMantissa(neg, m, exp - p + 1 - e, sticky) != 1L << p;
    }

    /**
     * m shifted right by {@code shift} bits (left when shift &lt;= 0), rounded per MXCSR.RC for a
     * value of sign {@code neg}; sticky: a nonzero amount below m's last bit. A carry may give 2^p.
     */
    private long roundedMantissa(boolean neg, BigInteger m, int shift, boolean sticky) {
        if (shift <= 0) {
            long mant = m.shiftLeft(-shift).longValue();
            return roundsUp(neg, false, sticky, mant) ? mant + 1 : mant;
        }
        long mant = m.shiftRight(shift).longValue();
        boolean half = m.testBit(shift - 1);
        boolean rest = sticky || m.getLowestSetBit() < shift - 1;
        return roundsUp(neg, half, rest, mant) ? mant + 1 : mant;
    }

    /** Whether the bits {@link #roundedMantissa} drops (and sticky) are not all zero. */
    private static boolean inexact(BigInteger m, int shift, boolean sticky) {
        return sticky || shift > 0 && m.getLowestSetBit() < shift;
    }

    /** half: the first dropped bit; rest: any lower one (or sticky); mant: the kept bits. */
    private boolean roundsUp(boolean neg, boolean half, boolean rest, long mant) {
        boolean inexact = half || rest;
        return switch (rc()) {
            case 0 -> half && (rest || (mant & 1) != 0);
            case 1 -> neg && inexact;
            case 2 -> !neg && inexact;
            default -> false;
        };
    }

    // ------------------------------------------------------------------ comparisons and conversions

    /** COMISS/COMISD (signal on any NaN) and UCOMISS/UCOMISD (on SNaNs): ZF, PF, CF; OF, SF, AF cleared. */
    private void comi(Insn in, boolean dbl, boolean signaling) {
        long a = daz(dbl ? s.xmm[2 * in.reg] : s.xmm[2 * in.reg] & 0xFFFF_FFFFL, dbl);
        long b = daz(scalarSource(in, dbl), dbl);
        long f;
        if (isNaN(a, dbl) || isNaN(b, dbl)) {
            if (signaling || isSNaN(a, dbl) || isSNaN(b, dbl)) flags |= IE;
            f = Flags.ZF | Flags.PF | Flags.CF;
        } else {
            if (isDenormal(a, dbl) || isDenormal(b, dbl)) flags |= DE;
            double va = value(a, dbl), vb = value(b, dbl);
            f = va == vb ? Flags.ZF : va < vb ? Flags.CF : 0;
        }
        commit();
        Flags.setSome(s.flags, Flags.ARITH, f);
    }

    /** CVTSS2SD / CVTSD2SS / CVTPS2PD / CVTPD2PS. */
    private void convertFormat(Insn in, int pfx) {
        long[] x = s.xmm;
        int d = 2 * in.reg;
        switch (pfx) {
            case 2 -> { long r = widen(scalarSource(in, false)); commit(); x[d] = r; }
            case 3 -> { long r = narrow(scalarSource(in, true)); commit(); x[d] = (x[d] & 0xFFFF_FFFF_0000_0000L) | r; }
            case 0 -> {
                long v = in.mod == 3 ? x[2 * in.rm] : cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8);
                long lo = widen(v & 0xFFFF_FFFFL), hi = widen(v >>> 32);
                commit();
                x[d] = lo;
                x[d + 1] = hi;
            }
            default -> {
                long[] src = packedSource(in, true);
                long r = pair(narrow(src[0]), narrow(src[1]));
                commit();
                x[d] = r;
                x[d + 1] = 0;
            }
        }
    }

    /** Float to double: exact; NaN payloads move to the top of the fraction (SDM Vol. 1 §4.8.3.7). */
    private long widen(long f) {
        f = daz(f, false);
        if (isNaN(f, false)) {
            if (isSNaN(f, false)) flags |= IE;
            return (f & 0x8000_0000L) << 32 | 0x7FF8_0000_0000_0000L | (f & 0x003F_FFFFL) << 29;
        }
        if (isDenormal(f, false)) flags |= DE;
        return Double.doubleToRawLongBits(Float.intBitsToFloat((int) f));
    }

    private long narrow(long v) {
        v = daz(v, true);
        if (isNaN(v, true)) {
            if (isSNaN(v, true)) flags |= IE;
            return (v >>> 32 & 0x8000_0000L) | 0x7FC0_0000L | (v >>> 29 & 0x003F_FFFFL);
        }
        if (isDenormal(v, true)) flags |= DE;
        if (isInf(v, true)) return (v >>> 32 & 0x8000_0000L) | 0x7F80_0000L;
        if (isZero(v, true)) return v >>> 32 & 0x8000_0000L;
        return round(v < 0, BigInteger.valueOf(significand(v, true)), scale(v, true), false, false);
    }

    /** CVTSI2SD/SS, CVTDQ2PD/PS: the integer rounded per RC (PE when inexact). */
    private long fromInteger(long v, boolean dbl) {
        if (v == 0) return 0;
        if (Math.abs(v) < (dbl ? 1L << 53 : 1L << 24) && v != Long.MIN_VALUE) return bits((double) v, dbl);
        BigInteger m = BigInteger.valueOf(v);
        return round(v < 0, m.abs(), 0, false, dbl);
    }

    /**
     * CVT(T)SS2SI/SD2SI, CVT(T)PS2DQ/PD2DQ: rounded per RC or truncated; NaN, infinity or out of
     * range is invalid and gives the integer indefinite 0x80000000 / 0x8000000000000000 (Vol. 2 CVTSD2SI).
     */
    private long toInteger(long v, boolean dbl, boolean wide, boolean truncate) {
        v = daz(v, dbl);
        long indefinite = wide ? Long.MIN_VALUE : 0x8000_0000L;
        if (isNaN(v, dbl) || isInf(v, dbl)) { flags |= IE; return indefinite; }
        double x = value(v, dbl);
        double r = truncate ? (x < 0 ? Math.ceil(x) : Math.floor(x)) : switch (rc()) {
            case 0 -> Math.rint(x);
            case 1 -> Math.floor(x);
            case 2 -> Math.ceil(x);
            default -> x < 0 ? Math.ceil(x) : Math.floor(x);
        };
        double limit = wide ? 0x1p63 : 0x1p31;
        if (!(r >= -limit && r < limit)) { flags |= IE; return indefinite; }
        if (r != x) flags |= PE;
        long n = (long) r;
        return wide ? n : n & 0xFFFF_FFFFL;
    }
}
