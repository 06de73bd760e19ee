package dev.jkvm.vmm.emulated.cpu;

/**
 * SSE/SSE2 operation numbers stored in {@link Insn#ext} for {@link Handler#SSE} (executed by
 * {@link Sse}). Names follow the SDM mnemonics; the prefix-selected variant (none/66/F3/F2,
 * SDM Vol. 2A §2.1.2 mandatory prefixes) is resolved by the decoder.
 */
final class SseOp {
    private SseOp() {}

    // Moves. X = xmm register (reg field), XM = xmm register or memory (r/m field).
    static final int MOVU_X_XM = 0, MOVA_X_XM = 1, MOVU_XM_X = 2, MOVA_XM_X = 3;
    static final int MOVSS_X_XM = 4, MOVSS_XM_X = 5, MOVSD_X_XM = 6, MOVSD_XM_X = 7;
    static final int MOVLPS_X_M = 8, MOVHLPS = 9, MOVLPS_M_X = 10, MOVHPS_X_M = 11, MOVLHPS = 12, MOVHPS_M_X = 13;
    /** MOVD/MOVQ between a general register or memory and an XMM register (66 0F 6E / 66 0F 7E); size 4 or 8. */
    static final int MOVD_X_E = 14, MOVD_E_X = 15;
    /** MOVQ xmm, xmm/m64 (F3 0F 7E) and MOVQ xmm/m64, xmm (66 0F D6): low quadword, upper zeroed on the xmm destination. */
    static final int MOVQ_X_XM = 16, MOVQ_XM_X = 17;
    /** MOVNTPS/MOVNTPD/MOVNTDQ: aligned store (the non-temporal hint changes nothing here). */
    static final int MOVNT_M_X = 18;

    // Bitwise (PS/PD/integer forms are the same 128-bit operation).
    static final int AND = 20, ANDN = 21, OR = 22, XOR = 23;

    static final int UNPCKLPS = 24, UNPCKHPS = 25, UNPCKLPD = 26, UNPCKHPD = 27, MOVMSKPS = 28, MOVMSKPD = 29;
    static final int PUNPCKLBW = 30, PUNPCKLWD = 31, PUNPCKLDQ = 32, PUNPCKLQDQ = 33, PUNPCKHBW = 34,
            PUNPCKHWD = 35, PUNPCKHDQ = 36, PUNPCKHQDQ = 37;
    static final int PACKSSWB = 38, PACKUSWB = 39, PACKSSDW = 40;
    static final int PCMPGTB = 41, PCMPGTW = 42, PCMPGTD = 43, PCMPEQB = 44, PCMPEQW = 45, PCMPEQD = 46;
    static final int PSHUFD = 47, PSHUFHW = 48, PSHUFLW = 49, SHUFPS = 50, SHUFPD = 51;

    // Shifts by an xmm/m128 count; the immediate forms are the same op with ext | SHIFT_IMM.
    static final int PSRLW = 52, PSRLD = 53, PSRLQ = 54, PSRAW = 55, PSRAD = 56, PSLLW = 57, PSLLD = 58,
            PSLLQ = 59, PSRLDQ = 60, PSLLDQ = 61;
    static final int SHIFT_IMM = 0x100;

    static final int PADDB = 62, PADDW = 63, PADDD = 64, PADDQ = 65, PSUBB = 66, PSUBW = 67, PSUBD = 68, PSUBQ = 69;
    static final int PADDSB = 70, PADDSW = 71, PADDUSB = 72, PADDUSW = 73, PSUBSB = 74, PSUBSW = 75,
            PSUBUSB = 76, PSUBUSW = 77;
    static final int PMULLW = 78, PMULHW = 79, PMULHUW = 80, PMULUDQ = 81, PMADDWD = 82;
    static final int PMINUB = 83, PMAXUB = 84, PMINSW = 85, PMAXSW = 86, PAVGB = 87, PAVGW = 88, PSADBW = 89;
    static final int PMOVMSKB = 90, PINSRW = 91, PEXTRW = 92;

    /** Floating-point arithmetic, comparisons and conversions: FLOAT | opcode byte << 2 | mandatory prefix (executed by {@link SseFloat}). */
    static final int FLOAT = 0x1000;
}
