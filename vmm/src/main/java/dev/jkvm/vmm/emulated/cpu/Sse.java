package dev.jkvm.vmm.emulated.cpu;

/**
 * SSE/SSE2 moves and integer operations (the ones {@code gcc -O2} emits for kernel code), MXCSR
 * access and FXSAVE/FXRSTOR. XMM registers are {@code s.xmm[2*i]} (low quadword) and
 * {@code s.xmm[2*i+1]} (high quadword).
 *
 * <p>Availability (SDM Vol. 3 §13.1.4 and Vol. 2 "SIMD Floating-Point Exceptions" tables):
 * CR0.EM = 1 or CR4.OSFXSR = 0 gives #UD, then CR0.TS = 1 gives #NM. Legacy-SSE 128-bit memory
 * operands must be 16-byte aligned (#GP(0)) except for the unaligned moves.
 */
final class Sse {
    private static final long CR0_EM = 1 << 2, CR0_TS = 1 << 3;
    private static final long CR4_OSFXSR = 1 << 9;
    /** MXCSR bits FXRSTOR/LDMXCSR accept (MXCSR_MASK as QEMU reports it: DAZ and all control/status bits). */
    static final int MXCSR_MASK = 0xFFFF;

    private final Executor ex;
    private final X86Cpu cpu;
    private final CpuState s;
    /** Source operand of the executing instruction: low and high quadword. */
    private long srcLo, srcHi;
    private final long[] fxScratch = new long[32];
    private final SseFloat fp;

    Sse(Executor ex) {
        this.ex = ex;
        this.cpu = ex.cpu;
        this.s = ex.s;
        this.fp = new SseFloat(ex);
    }

    private void checkAvailable() {
        if ((s.cr0 & CR0_EM) != 0 || (s.cr4 & CR4_OSFXSR) == 0) throw cpu.ex.raise(CpuException.UD, CpuException.NO_ERROR_CODE);
        if ((s.cr0 & CR0_TS) != 0) throw cpu.ex.raise(CpuException.NM, CpuException.NO_ERROR_CODE);
    }

    private long linear(Insn in, long off) {
        return off + ex.segmentBase(in);
    }

    private void checkAligned(Insn in, long off) {
        if ((linear(in, off) & 15) != 0) throw cpu.ex.raise(CpuException.GP, 0);
    }

    /** Loads the r/m operand (xmm or m128) into srcLo/srcHi. */
    private void loadSource128(Insn in, boolean aligned) {
        if (in.mod == 3) {
            srcLo = s.xmm[2 * in.rm];
            srcHi = s.xmm[2 * in.rm + 1];
            return;
        }
        long off = Operands.effectiveOffset(cpu, in);
        if (aligned) checkAligned(in, off);
        long lo = cpu.mmu.read(in.segment, off, 8);
        long hi = cpu.mmu.read(in.segment, off + 8, 8);
        srcLo = lo;
        srcHi = hi;
    }

    /** Stores 16 bytes; both pages are checked first so a fault leaves memory untouched. */
    private void store128(Insn in, long off, long lo, long hi) {
        Mmu mmu = cpu.mmu;
        if (((linear(in, off) & 0xFFF) > 0xFF0)) {
            mmu.translate(in.segment, off, 1, Mmu.WRITE);
            mmu.translate(in.segment, off + 15, 1, Mmu.WRITE);
        }
        mmu.write(in.segment, off, 8, lo);
        mmu.write(in.segment, off + 8, 8, hi);
    }

    void execute(Insn in) {
        checkAvailable();
        long[] x = s.xmm;
        int d = 2 * in.reg;
        int op = in.ext;
        switch (op) {
            case SseOp.MOVU_X_XM, SseOp.MOVA_X_XM -> {
                loadSource128(in, op == SseOp.MOVA_X_XM);
                x[d] = srcLo;
                x[d + 1] = srcHi;
            }
            case SseOp.MOVU_XM_X, SseOp.MOVA_XM_X, SseOp.MOVNT_M_X -> {
                if (in.mod == 3) {
                    x[2 * in.rm] = x[d];
                    x[2 * in.rm + 1] = x[d + 1];
                } else {
                    long off = Operands.effectiveOffset(cpu, in);
                    if (op != SseOp.MOVU_XM_X) checkAligned(in, off);
                    store128(in, off, x[d], x[d + 1]);
                }
            }
            case SseOp.MOVSS_X_XM -> {
                if (in.mod == 3) x[d] = (x[d] & 0xFFFF_FFFF_0000_0000L) | (x[2 * in.rm] & 0xFFFF_FFFFL);
                else { x[d] = cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 4); x[d + 1] = 0; }
            }
            case SseOp.MOVSS_XM_X -> {
                if (in.mod == 3) x[2 * in.rm] = (x[2 * in.rm] & 0xFFFF_FFFF_0000_0000L) | (x[d] & 0xFFFF_FFFFL);
                else cpu.mmu.write(in.segment, Operands.effectiveOffset(cpu, in), 4, x[d]);
            }
            case SseOp.MOVSD_X_XM -> {
                if (in.mod == 3) x[d] = x[2 * in.rm];
                else { x[d] = cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8); x[d + 1] = 0; }
            }
            case SseOp.MOVSD_XM_X -> {
                if (in.mod == 3) x[2 * in.rm] = x[d];
                else cpu.mmu.write(in.segment, Operands.effectiveOffset(cpu, in), 8, x[d]);
            }
            case SseOp.MOVLPS_X_M -> x[d] = cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8);
            case SseOp.MOVHPS_X_M -> x[d + 1] = cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8);
            case SseOp.MOVLPS_M_X -> cpu.mmu.write(in.segment, Operands.effectiveOffset(cpu, in), 8, x[d]);
            case SseOp.MOVHPS_M_X -> cpu.mmu.write(in.segment, Operands.effectiveOffset(cpu, in), 8, x[d + 1]);
            case SseOp.MOVHLPS -> x[d] = x[2 * in.rm + 1];
            case SseOp.MOVLHPS -> x[d + 1] = x[2 * in.rm];
            case SseOp.MOVD_X_E -> {
                long v = Operands.readRm(cpu, in, in.size);
                x[d] = in.size == 4 ? v & 0xFFFF_FFFFL : v;
                x[d + 1] = 0;
            }
            case SseOp.MOVD_E_X -> Operands.writeRm(cpu, in, in.size, in.size == 4 ? x[d] & 0xFFFF_FFFFL : x[d]);
            case SseOp.MOVQ_X_XM -> {
                x[d] = in.mod == 3 ? x[2 * in.rm] : cpu.mmu.read(in.segment, Operands.effectiveOffset(cpu, in), 8);
                x[d + 1] = 0;
            }
            case SseOp.MOVQ_XM_X -> {
                if (in.mod == 3) { x[2 * in.rm] = x[d]; x[2 * in.rm + 1] = 0; }
                else cpu.mmu.write(in.segment, Operands.effectiveOffset(cpu, in), 8, x[d]);
            }
            case SseOp.MOVMSKPS -> {
                long lo = x[2 * in.rm], hi = x[2 * in.rm + 1];
                long m = (lo >>> 31 & 1) | (lo >>> 62 & 2) | (hi >>> 29 & 4) | (hi >>> 60 & 8);
                Operands.writeReg(cpu, in, in.reg, in.mode == 8 ? 8 : 4, m);
            }
            case SseOp.MOVMSKPD -> {
                long m = (x[2 * in.rm] >>> 63) | (x[2 * in.rm + 1] >>> 63) << 1;
                Operands.writeReg(cpu, in, in.reg, in.mode == 8 ? 8 : 4, m);
            }
            case SseOp.PMOVMSKB -> {
                long lo = x[2 * in.rm], hi = x[2 * in.rm + 1];
                long m = 0;
                for (int i = 0; i < 8; i++) {
                    m |= ((lo >>> (8 * i + 7)) & 1) << i;
                    m |= ((hi >>> (8 * i + 7)) & 1) << (i + 8);
                }
                Operands.writeReg(cpu, in, in.reg, in.mode == 8 ? 8 : 4, m);
            }
            case SseOp.PEXTRW -> {
                int sel = (int) in.imm & 7;
                long v = (x[2 * in.rm + (sel >> 2)] >>> (16 * (sel & 3))) & 0xFFFF;
                Operands.writeReg(cpu, in, in.reg, in.mode == 8 ? 8 : 4, v);
            }
            case SseOp.PINSRW -> {
                long v = Operands.readRm(cpu, in, in.mod == 3 ? 4 : 2) & 0xFFFF;
                int sel = (int) in.imm & 7;
                int q = d + (sel >> 2);
                int sh = 16 * (sel & 3);
                x[q] = (x[q] & ~(0xFFFFL << sh)) | v << sh;
            }
            default -> {
                if (op >= SseOp.FLOAT) {
                    fp.execute(in);
                    return;
                }
                if ((op & SseOp.SHIFT_IMM) != 0) {
                    shift(x, 2 * in.rm, op & ~SseOp.SHIFT_IMM, in.imm & 0xFF);
                    return;
                }
                loadSource128(in, true);
                arithmetic(in, x, d, op);
            }
        }
    }

    private void arithmetic(Insn in, long[] x, int d, int op) {
        long aLo = x[d], aHi = x[d + 1], bLo = srcLo, bHi = srcHi;
        long rLo, rHi;
        switch (op) {
            case SseOp.AND -> { rLo = aLo & bLo; rHi = aHi & bHi; }
            case SseOp.ANDN -> { rLo = ~aLo & bLo; rHi = ~aHi & bHi; }
            case SseOp.OR -> { rLo = aLo | bLo; rHi = aHi | bHi; }
            case SseOp.XOR -> { rLo = aLo ^ bLo; rHi = aHi ^ bHi; }
            case SseOp.UNPCKLPS, SseOp.PUNPCKLDQ -> { rLo = (aLo & 0xFFFF_FFFFL) | bLo << 32; rHi = (aLo >>> 32) | (bLo & 0xFFFF_FFFF_0000_0000L); }
            case SseOp.UNPCKHPS, SseOp.PUNPCKHDQ -> { rLo = (aHi & 0xFFFF_FFFFL) | bHi << 32; rHi = (aHi >>> 32) | (bHi & 0xFFFF_FFFF_0000_0000L); }
            case SseOp.UNPCKLPD, SseOp.PUNPCKLQDQ -> { rLo = aLo; rHi = bLo; }
            case SseOp.UNPCKHPD, SseOp.PUNPCKHQDQ -> { rLo = aHi; rHi = bHi; }
            case SseOp.PUNPCKLBW -> { rLo = interleave(aLo, bLo, 8); rHi = interleave(aLo >>> 32, bLo >>> 32, 8); }
            case SseOp.PUNPCKHBW -> { rLo = interleave(aHi, bHi, 8); rHi = interleave(aHi >>> 32, bHi >>> 32, 8); }
            case SseOp.PUNPCKLWD -> { rLo = interleave(aLo, bLo, 16); rHi = interleave(aLo >>> 32, bLo >>> 32, 16); }
            case SseOp.PUNPCKHWD -> { rLo = interleave(aHi, bHi, 16); rHi = interleave(aHi >>> 32, bHi >>> 32, 16); }
            case SseOp.PACKSSWB, SseOp.PACKUSWB -> {
                boolean unsigned = op == SseOp.PACKUSWB;
                rLo = pack(aLo, 16, unsigned) | pack(aHi, 16, unsigned) << 32;
                rHi = pack(bLo, 16, unsigned) | pack(bHi, 16, unsigned) << 32;
            }
            case SseOp.PACKSSDW -> {
                rLo = pack(aLo, 32, false) | pack(aHi, 32, false) << 32;
                rHi = pack(bLo, 32, false) | pack(bHi, 32, false) << 32;
            }
            case SseOp.PSHUFD -> {
                int imm = (int) in.imm;
                long r0 = dword(bLo, bHi, imm & 3), r1 = dword(bLo, bHi, (imm >> 2) & 3);
                long r2 = dword(bLo, bHi, (imm >> 4) & 3), r3 = dword(bLo, bHi, (imm >> 6) & 3);
                rLo = r0 | r1 << 32;
                rHi = r2 | r3 << 32;
            }
            case SseOp.PSHUFLW -> { rLo = shuffleWords(bLo, (int) in.imm); rHi = bHi; }
            case SseOp.PSHUFHW -> { rLo = bLo; rHi = shuffleWords(bHi, (int) in.imm); }
            case SseOp.SHUFPS -> {
                int imm = (int) in.imm;
                long r0 = dword(aLo, aHi, imm & 3), r1 = dword(aLo, aHi, (imm >> 2) & 3);
                long r2 = dword(bLo, bHi, (imm >> 4) & 3), r3 = dword(bLo, bHi, (imm >> 6) & 3);
                rLo = r0 | r1 << 32;
                rHi = r2 | r3 << 32;
            }
            case SseOp.SHUFPD -> {
                int imm = (int) in.imm;
                rLo = (imm & 1) == 0 ? aLo : aHi;
                rHi = (imm & 2) == 0 ? bLo : bHi;
            }
            case SseOp.PSRLW, SseOp.PSRLD, SseOp.PSRLQ, SseOp.PSRAW, SseOp.PSRAD, SseOp.PSLLW, SseOp.PSLLD, SseOp.PSLLQ -> {
                // Count from the low quadword of the source only, unsigned (SDM Vol. 2B PSLLW/PSRLW...:
                // COUNT <- SRC[63:0]); the high quadword is ignored.
                shift(x, d, op, bLo);
                return;
            }
            case SseOp.PMULUDQ -> {
                rLo = (aLo & 0xFFFF_FFFFL) * (bLo & 0xFFFF_FFFFL);
                rHi = (aHi & 0xFFFF_FFFFL) * (bHi & 0xFFFF_FFFFL);
            }
            case SseOp.PMADDWD -> { rLo = maddwd(aLo, bLo); rHi = maddwd(aHi, bHi); }
            case SseOp.PSADBW -> { rLo = sadbw(aLo, bLo); rHi = sadbw(aHi, bHi); }
            default -> { rLo = lanes(op, aLo, bLo); rHi = lanes(op, aHi, bHi); }
        }
        x[d] = rLo;
        x[d + 1] = rHi;
    }

    private static long dword(long lo, long hi, int i) {
        long q = i < 2 ? lo : hi;
        return (i & 1) == 0 ? q & 0xFFFF_FFFFL : q >>> 32;
    }

    private static long shuffleWords(long v, int imm) {
        long r = 0;
        for (int i = 0; i < 4; i++) r |= ((v >>> (16 * ((imm >> (2 * i)) & 3))) & 0xFFFF) << (16 * i);
        return r;
    }

    /** Interleaves the low 32 bits of a and b in lanes of {@code bits}: a0 b0 a1 b1 ... */
    private static long interleave(long a, long b, int bits) {
        long m = (1L << bits) - 1;
        long r = 0;
        int n = 32 / bits;
        for (int i = 0; i < n; i++) {
            r |= ((a >>> (bits * i)) & m) << (2 * bits * i);
            r |= ((b >>> (bits * i)) & m) << (2 * bits * i + bits);
        }
        return r;
    }

    /** Packs the signed lanes of {@code bits} in v into half-width saturated lanes (32 bits of output). */
    private static long pack(long v, int bits, boolean unsigned) {
        int n = 64 / bits;
        int out = bits / 2;
        long r = 0;
        for (int i = 0; i < n; i++) {
            long lane = (v << (64 - bits * (i + 1))) >> (64 - bits); // sign-extended lane i
            long sat;
            if (unsigned) sat = Math.max(0, Math.min((1L << out) - 1, lane));
            else sat = Math.max(-(1L << (out - 1)), Math.min((1L << (out - 1)) - 1, lane)) & ((1L << out) - 1);
            r |= sat << (out * i);
        }
        return r;
    }

    private static long maddwd(long a, long b) {
        long r = 0;
        for (int i = 0; i < 2; i++) {
            long a0 = (short) (a >>> (32 * i)), a1 = (short) (a >>> (32 * i + 16));
            long b0 = (short) (b >>> (32 * i)), b1 = (short) (b >>> (32 * i + 16));
            r |= ((a0 * b0 + a1 * b1) & 0xFFFF_FFFFL) << (32 * i);
        }
        return r;
    }

    private static long sadbw(long a, long b) {
        long sum = 0;
        for (int i = 0; i < 8; i++) sum += Math.abs(((a >>> (8 * i)) & 0xFF) - ((b >>> (8 * i)) & 0xFF));
        return sum;
    }

    /** Lane-wise operations on one quadword. */
    private static long lanes(int op, long a, long b) {
        int bits = switch (op) {
            case SseOp.PADDB, SseOp.PSUBB, SseOp.PADDSB, SseOp.PADDUSB, SseOp.PSUBSB, SseOp.PSUBUSB, SseOp.PCMPEQB,
                 SseOp.PCMPGTB, SseOp.PMINUB, SseOp.PMAXUB, SseOp.PAVGB -> 8;
            case SseOp.PADDD, SseOp.PSUBD, SseOp.PCMPEQD, SseOp.PCMPGTD -> 32;
            case SseOp.PADDQ, SseOp.PSUBQ -> 64;
            default -> 16;
        };
        if (bits == 64) return op == SseOp.PADDQ ? a + b : a - b;
        long m = (1L << bits) - 1;
        int sh = 64 - bits;
        long r = 0;
        for (int i = 0; i < 64; i += bits) {
            long ua = (a >>> i) & m, ub = (b >>> i) & m;
            long sa = (a << (sh - i)) >> sh, sb = (b << (sh - i)) >> sh;
            long v = switch (op) {
                case SseOp.PADDB, SseOp.PADDW, SseOp.PADDD -> ua + ub;
                case SseOp.PSUBB, SseOp.PSUBW, SseOp.PSUBD -> ua - ub;
                case SseOp.PADDSB, SseOp.PADDSW -> satS(sa + sb, bits);
                case SseOp.PSUBSB, SseOp.PSUBSW -> satS(sa - sb, bits);
                case SseOp.PADDUSB, SseOp.PADDUSW -> Math.min(ua + ub, m);
                case SseOp.PSUBUSB, SseOp.PSUBUSW -> Math.max(ua - ub, 0);
                case SseOp.PCMPEQB, SseOp.PCMPEQW, SseOp.PCMPEQD -> ua == ub ? m : 0;
                case SseOp.PCMPGTB, SseOp.PCMPGTW, SseOp.PCMPGTD -> sa > sb ? m : 0;
                case SseOp.PMINUB -> Math.min(ua, ub);
                case SseOp.PMAXUB -> Math.max(ua, ub);
                case SseOp.PMINSW -> Math.min(sa, sb);
                case SseOp.PMAXSW -> Math.max(sa, sb);
                case SseOp.PAVGB, SseOp.PAVGW -> (ua + ub + 1) >>> 1;
                case SseOp.PMULLW -> sa * sb;
                case SseOp.PMULHW -> (sa * sb) >> 16;
                case SseOp.PMULHUW -> (ua * ub) >>> 16;
                default -> throw new IllegalStateException("sse op " + op);
            };
            r |= (v & m) << i;
        }
        return r;
    }

    private static long satS(long v, int bits) {
        long max = (1L << (bits - 1)) - 1, min = -(1L << (bits - 1));
        return Math.max(min, Math.min(max, v));
    }

    /** Shifts register xmm[q], xmm[q+1] by an unsigned count (counts past the lane width give 0, or the sign for arithmetic). */
    private static void shift(long[] x, int q, int op, long count) {
        long lo = x[q], hi = x[q + 1];
        switch (op) {
            case SseOp.PSRLDQ, SseOp.PSLLDQ -> {
                int bytes = (int) Math.min(count, 16);
                int bitsN = bytes * 8;
                if (op == SseOp.PSRLDQ) {
                    if (bitsN == 0) return;
                    if (bitsN >= 128) { lo = 0; hi = 0; }
                    else if (bitsN >= 64) { lo = hi >>> (bitsN - 64); hi = 0; }
                    else { lo = (lo >>> bitsN) | (hi << (64 - bitsN)); hi = hi >>> bitsN; }
                } else {
                    if (bitsN == 0) return;
                    if (bitsN >= 128) { lo = 0; hi = 0; }
                    else if (bitsN >= 64) { hi = lo << (bitsN - 64); lo = 0; }
                    else { hi = (hi << bitsN) | (lo >>> (64 - bitsN)); lo = lo << bitsN; }
                }
                x[q] = lo;
                x[q + 1] = hi;
                return;
            }
            default -> { }
        }
        int bits = switch (op) {
            case SseOp.PSRLW, SseOp.PSRAW, SseOp.PSLLW -> 16;
            case SseOp.PSRLD, SseOp.PSRAD, SseOp.PSLLD -> 32;
            default -> 64;
        };
        x[q] = shiftLanes(lo, op, bits, count);
        x[q + 1] = shiftLanes(hi, op, bits, count);
    }

    private static long shiftLanes(long v, int op, int bits, long count) {
        boolean arith = op == SseOp.PSRAW || op == SseOp.PSRAD;
        boolean left = op == SseOp.PSLLW || op == SseOp.PSLLD || op == SseOp.PSLLQ;
        if (Long.compareUnsigned(count, bits - 1) > 0) {
            if (!arith) return 0;
            count = bits - 1;
        }
        int c = (int) count;
        if (bits == 64) return left ? v << c : v >>> c;
        long m = (1L << bits) - 1;
        int sh = 64 - bits;
        long r = 0;
        for (int i = 0; i < 64; i += bits) {
            long lane = (v >>> i) & m;
            long out;
            if (left) out = lane << c;
            else if (arith) out = ((v << (sh - i)) >> sh) >> c;
            else out = lane >>> c;
            r |= (out & m) << i;
        }
        return r;
    }

    // ------------------------------------------------------------------ MXCSR, FXSAVE, FXRSTOR

    void ldmxcsr(Insn in) {
        checkAvailable();
        long v = Operands.readRm(cpu, in, 4);
        if ((v & ~MXCSR_MASK) != 0) throw cpu.ex.raise(CpuException.GP, 0);
        s.mxcsr = (int) v;
    }

    void stmxcsr(Insn in) {
        checkAvailable();
        Operands.writeRm(cpu, in, 4, s.mxcsr);
    }

    private void checkFx(Insn in, long off) {
        // FXSAVE/FXRSTOR: #NM on CR0.TS or CR0.EM (SDM Vol. 2A FXSAVE "Protected Mode Exceptions"); #GP unless 16-byte aligned.
        if ((s.cr0 & (CR0_TS | CR0_EM)) != 0) throw cpu.ex.raise(CpuException.NM, CpuException.NO_ERROR_CODE);
        checkAligned(in, off);
    }

    /** Number of XMM registers FXSAVE covers: 16 in 64-bit mode, 8 otherwise (SDM Vol. 1 Table 10-2). */
    private int xmmCount(Insn in) {
        return in.mode == 8 ? 16 : 8;
    }

    /** FXSAVE: the 512-byte image of SDM Vol. 1 §10.5.1, Table 10-2 (REX.W: 64-bit FPU IP/DP format). */
    void fxsave(Insn in) {
        long off = Operands.effectiveOffset(cpu, in);
        checkFx(in, off);
        Mmu mmu = cpu.mmu;
        int seg = in.segment;
        long am = Operands.addressMask(in.addrSize);
        // Probe both ends so a fault leaves the area unwritten.
        mmu.translate(seg, off, 1, Mmu.WRITE);
        mmu.translate(seg, (off + 511) & am, 1, Mmu.WRITE);
        long w0 = (s.fpuControl & 0xFFFFL) | (s.fpuStatus & 0xFFFFL) << 16 | (s.fpuTagWord & 0xFFL) << 32;
        mmu.write(seg, off, 8, w0);            // FCW, FSW, FTW (abridged), FOP = 0
        mmu.write(seg, (off + 8) & am, 8, 0);  // FPU IP (and CS)
        mmu.write(seg, (off + 16) & am, 8, 0); // FPU DP (and DS)
        mmu.write(seg, (off + 24) & am, 8, (s.mxcsr & 0xFFFF_FFFFL) | (long) MXCSR_MASK << 32);
        byte[] st = s.fpuRegisters;
        for (int i = 0; i < 16; i++) {
            long v = 0;
            for (int b = 7; b >= 0; b--) v = v << 8 | (st[8 * i + b] & 0xFF);
            mmu.write(seg, (off + 32 + 8 * i) & am, 8, v);
        }
        int n = xmmCount(in);
        for (int i = 0; i < n; i++) {
            mmu.write(seg, (off + 160 + 16 * i) & am, 8, s.xmm[2 * i]);
            mmu.write(seg, (off + 168 + 16 * i) & am, 8, s.xmm[2 * i + 1]);
        }
    }

    void fxrstor(Insn in) {
        long off = Operands.effectiveOffset(cpu, in);
        checkFx(in, off);
        Mmu mmu = cpu.mmu;
        int seg = in.segment;
        long am = Operands.addressMask(in.addrSize);
        long w0 = mmu.read(seg, off, 8);
        long mx = mmu.read(seg, (off + 24) & am, 4);
        if ((mx & ~MXCSR_MASK) != 0) throw cpu.ex.raise(CpuException.GP, 0);
        long[] sc = fxScratch;
        int n = xmmCount(in);
        for (int i = 0; i < n; i++) {
            sc[2 * i] = mmu.read(seg, (off + 160 + 16 * i) & am, 8);
            sc[2 * i + 1] = mmu.read(seg, (off + 168 + 16 * i) & am, 8);
        }
        byte[] st = s.fpuRegisters;
        long[] regs = stScratch;
        for (int i = 0; i < 16; i++) regs[i] = mmu.read(seg, (off + 32 + 8 * i) & am, 8);
        // Everything read: commit.
        s.fpuControl = (int) (w0 & 0xFFFF);
        s.fpuStatus = (int) ((w0 >>> 16) & 0xFFFF);
        s.fpuTagWord = (int) ((w0 >>> 32) & 0xFF);
        s.mxcsr = (int) mx;
        for (int i = 0; i < 16; i++) {
            long v = regs[i];
            for (int b = 0; b < 8; b++) st[8 * i + b] = (byte) (v >>> (8 * b));
        }
        System.arraycopy(sc, 0, s.xmm, 0, 2 * n);
    }

    private final long[] stScratch = new long[16];
}
