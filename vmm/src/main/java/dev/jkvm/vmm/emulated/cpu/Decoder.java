package dev.jkvm.vmm.emulated.cpu;

/**
 * x86 instruction decoder for 16-, 32- and 64-bit code (Intel SDM Vol. 2A Ch. 2 "Instruction
 * Format", Appendix A opcode maps). Fills an {@link Insn} with prefixes, operand and address size,
 * ModRM/SIB operand, displacement and immediates, its length, and the execution handler, so that
 * executing it needs no further look at the bytes.
 *
 * <p>Never throws for bad encodings: an invalid one gets handler {@link Handler#UD}, a valid one we
 * do not implement {@link Handler#UNIMPLEMENTED}, one longer than 15 bytes {@link Handler#GP_LENGTH};
 * the executor raises the exception when (and if) the instruction executes. Only the code fetch
 * itself may throw (a #PF from {@link CodeSource}).
 *
 * <p>One instance per vCPU (it keeps decode state in fields); allocation: the Insn's byte array
 * once per Insn.
 */
public final class Decoder {

    /** Where instruction bytes come from: one byte (0..255) at a linear address; may throw #PF. */
    public interface CodeSource {
        int byteAt(long linear);
    }

    /** Code sizes for {@link #decode}. */
    public static final int MODE16 = 2, MODE32 = 4, MODE64 = 8;

    private static final int MAX_LENGTH = 15;

    /** Thrown internally when a 16th byte would be needed. */
    private static final class TooLong extends RuntimeException {
        TooLong() { super(null, null, false, false); }
    }
    private static final TooLong TOO_LONG = new TooLong();

    private CodeSource src;
    private long start;
    private int pos;
    private byte[] buf;
    private Insn in;
    private int mode;
    private int rexR, rexX, rexB;
    private boolean rexW;
    /** Mandatory-prefix selector for SSE: 0 none, 1 = 66, 2 = F3, 3 = F2 (F3 wins over F2, both over 66). */
    private int mandatory;
    /**
     * F3 0F BC / F3 0F BD are TZCNT / LZCNT only on a processor that has them
     * (CPUID.(EAX=07H,ECX=0):EBX.BMI1[bit 3], CPUID.80000001H:ECX.LZCNT[bit 5]); on one without,
     * the F3 prefix is ignored and they execute as BSF / BSR (SDM Vol. 2B TZCNT and Vol. 2A LZCNT,
     * "Description"). X86Cpu sets these from its CPUID table; true when built without one.
     */
    boolean tzcnt = true, lzcnt = true;
    private boolean lockable;

    /**
     * Decodes the instruction at {@code linear} in code size {@code mode} ({@link #MODE16},
     * {@link #MODE32}, {@link #MODE64}) into {@code out}.
     */
    public void decode(CodeSource source, long linear, int mode, Insn out) {
        this.src = source;
        this.start = linear;
        this.pos = 0;
        this.in = out;
        this.mode = mode;
        if (out.bytes == null || out.bytes.length < MAX_LENGTH) out.bytes = new byte[MAX_LENGTH];
        this.buf = out.bytes;
        out.opcode = 0; out.prefixes = 0; out.rex = 0; out.hasModrm = false; out.mod = 0; out.reg = 0; out.rm = 0;
        out.base = -1; out.index = -1; out.scale = 0; out.disp = 0; out.imm = 0; out.imm2 = 0; out.ext = 0;
        out.attrs = 0; out.size = 0; out.segment = -1; out.mode = mode; out.handler = Handler.UD;
        lockable = false;
        try {
            decodeInstruction();
            out.length = pos;
        } catch (TooLong t) {
            out.length = MAX_LENGTH;
            out.handler = Handler.GP_LENGTH;
        }
        if ((out.prefixes & Insn.P_LOCK) != 0 && out.handler != Handler.GP_LENGTH
                && !(lockable && out.hasModrm && out.mod != 3)
                && out.handler != Handler.UNIMPLEMENTED) {
            // LOCK on an instruction or form that does not allow it (SDM Vol. 2A, LOCK: "#UD").
            out.handler = Handler.UD;
        }
        if (out.segment < 0) out.segment = CpuState.DS;
        out.attrs = attributes(out);
        specialise(out);
        this.src = null;
        this.in = null;
    }

    private int next() {
        if (pos >= MAX_LENGTH) throw TOO_LONG;
        int b = src.byteAt(start + pos) & 0xFF;
        buf[pos++] = (byte) b;
        return b;
    }

    private long imm8() { return (byte) next(); }

    private long imm16() { int lo = next(); return (short) (lo | next() << 8); }

    private long imm32() {
        int b0 = next(), b1 = next(), b2 = next(), b3 = next();
        return b0 | b1 << 8 | b2 << 16 | b3 << 24;
    }

    private long imm64() {
        long lo = imm32() & 0xFFFF_FFFFL;
        long hi = imm32() & 0xFFFF_FFFFL;
        return lo | hi << 32;
    }

    /** Iz: 16 bits for operand size 2, else 32 bits sign-extended (SDM Vol. 2A Appendix A.2.2). */
    private long immZ(int size) { return size == 2 ? imm16() : imm32(); }

    // ------------------------------------------------------------------ prefixes and sizes

    private void decodeInstruction() {
        Insn in = this.in;
        int b;
        int rex = 0;
        int seg = -1;
        boolean sawF2 = false, sawF3 = false;
        for (;;) {
            b = next();
            switch (b) {
                case 0xF0 -> in.prefixes |= Insn.P_LOCK;
                case 0xF2 -> { in.prefixes |= Insn.P_REPNE; sawF2 = true; }
                case 0xF3 -> { in.prefixes |= Insn.P_REP; sawF3 = true; }
                case 0x26 -> seg = CpuState.ES;
                case 0x2E -> seg = CpuState.CS;
                case 0x36 -> seg = CpuState.SS;
                case 0x3E -> seg = CpuState.DS;
                case 0x64 -> seg = CpuState.FS;
                case 0x65 -> seg = CpuState.GS;
                case 0x66 -> in.prefixes |= Insn.P_OPSIZE;
                case 0x67 -> in.prefixes |= Insn.P_ADDRSIZE;
                default -> {
                    if (mode == MODE64 && (b & 0xF0) == 0x40) {
                        rex = b;
                        b = next();
                        // A REX prefix counts only immediately before the opcode (SDM Vol. 2A §2.2.1).
                        if (isLegacyPrefix(b) || (b & 0xF0) == 0x40) {
                            rex = 0;
                            pos--;
                            continue;
                        }
                    }
                    decodeOpcode(b, rex, seg, sawF2, sawF3);
                    return;
                }
            }
            if (b != 0xF0 && b != 0xF2 && b != 0xF3 && b != 0x66 && b != 0x67) in.prefixes |= Insn.P_SEGMENT;
        }
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67 -> true;
            default -> false;
        };
    }

    private void decodeOpcode(int b, int rex, int seg, boolean sawF2, boolean sawF3) {
        Insn in = this.in;
        in.rex = rex;
        if (rex != 0) in.prefixes |= Insn.P_REX;
        rexW = (rex & 8) != 0;
        rexR = (rex & 4) << 1;
        rexX = (rex & 2) << 2;
        rexB = (rex & 1) << 3;
        boolean o16 = (in.prefixes & Insn.P_OPSIZE) != 0;
        boolean a16 = (in.prefixes & Insn.P_ADDRSIZE) != 0;
        in.opSize = mode == MODE64 ? (rexW ? 8 : o16 ? 2 : 4) : mode == MODE32 ? (o16 ? 2 : 4) : (o16 ? 4 : 2);
        in.addrSize = mode == MODE64 ? (a16 ? 4 : 8) : mode == MODE32 ? (a16 ? 2 : 4) : (a16 ? 4 : 2);
        in.size = in.opSize;
        mandatory = sawF3 ? 2 : sawF2 ? 3 : o16 ? 1 : 0;
        if (b == 0x0F) {
            int b2 = next();
            if (b2 == 0x38) {
                in.opcode = Insn.MAP_0F38 << 8 | next();
                modrm();
                unimplemented();
            } else if (b2 == 0x3A) {
                in.opcode = Insn.MAP_0F3A << 8 | next();
                modrm();
                in.imm = next();
                unimplemented();
            } else {
                in.opcode = Insn.MAP_0F << 8 | b2;
                decode0F(b2);
            }
        } else {
            in.opcode = b;
            decode1(b);
        }
        if (seg >= 0) in.segment = seg;
    }

    /** Operand size of instructions that default to 64 bits in 64-bit mode (SDM Vol. 2A Appendix A "d64"/"f64"). */
    private void d64() {
        if (mode == MODE64) {
            in.opSize = rexW ? 8 : (in.prefixes & Insn.P_OPSIZE) != 0 ? 2 : 8;
            in.size = in.opSize;
        }
    }

    /** Reads ModRM (and SIB/displacement for a memory operand). */
    private void modrm() {
        Insn in = this.in;
        int m = next();
        in.hasModrm = true;
        int mod = m >>> 6;
        in.mod = mod;
        in.reg = ((m >>> 3) & 7) | rexR;
        int rm = m & 7;
        if (mod == 3) {
            in.rm = rm | rexB;
            return;
        }
        in.rm = rm | rexB;
        if (in.addrSize == 2) {
            // 16-bit addressing forms (SDM Vol. 2A Table 2-1).
            switch (rm) {
                case 0 -> { in.base = CpuState.RBX; in.index = CpuState.RSI; }
                case 1 -> { in.base = CpuState.RBX; in.index = CpuState.RDI; }
                case 2 -> { in.base = CpuState.RBP; in.index = CpuState.RSI; }
                case 3 -> { in.base = CpuState.RBP; in.index = CpuState.RDI; }
                case 4 -> in.base = CpuState.RSI;
                case 5 -> in.base = CpuState.RDI;
                case 6 -> in.base = mod == 0 ? -1 : CpuState.RBP;
                default -> in.base = CpuState.RBX;
            }
            in.rm = rm;
            if (mod == 0 && rm == 6) in.disp = imm16();
            else if (mod == 1) in.disp = imm8();
            else if (mod == 2) in.disp = imm16();
            if (in.base == CpuState.RBP) in.segment = CpuState.SS;
            return;
        }
        // 32/64-bit addressing (SDM Vol. 2A Tables 2-2, 2-3; §2.2.1.6 RIP-relative).
        if (rm == 4) {
            int sib = next();
            in.scale = sib >>> 6;
            int idx = ((sib >>> 3) & 7) | rexX;
            in.index = idx == 4 ? -1 : idx;
            int base = sib & 7;
            if (base == 5 && mod == 0) {
                in.base = -1;
                in.disp = imm32();
            } else {
                in.base = base | rexB;
            }
        } else if (rm == 5 && mod == 0) {
            in.base = mode == MODE64 ? Insn.BASE_RIP : -1;
            in.disp = imm32();
        } else {
            in.base = rm | rexB;
        }
        if (mod == 1) in.disp = imm8();
        else if (mod == 2) in.disp = imm32();
        if (in.base == CpuState.RSP || in.base == CpuState.RBP) in.segment = CpuState.SS;
    }

    private void handler(int h) { in.handler = h; }

    private void unimplemented() { in.handler = Handler.UNIMPLEMENTED; }

    private void ud() { in.handler = Handler.UD; }

    private void system() { in.handler = Handler.SYSTEM; }

    /** Register operand without ModRM (opcode low bits + REX.B), encoded as a register r/m. */
    private void regInOpcode(int b) {
        in.mod = 3;
        in.rm = (b & 7) | rexB;
        in.reg = in.rm;
    }

    /** Accumulator operand as a register r/m (AL/AX/EAX/RAX forms). */
    private void accumulator() {
        in.mod = 3;
        in.rm = 0;
        in.reg = 0;
    }

    private boolean invalidIn64() {
        if (mode == MODE64) {
            ud();
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ one-byte map

    private void decode1(int b) {
        Insn in = this.in;
        if (b < 0x40 && (b & 7) < 6) {
            int op = b >>> 3;
            switch (b & 7) {
                case 0 -> { in.size = 1; modrm(); handler(Handler.ALU_EG + op); lockable = op != 7; }
                case 1 -> { modrm(); handler(Handler.ALU_EG + op); lockable = op != 7; }
                case 2 -> { in.size = 1; modrm(); handler(Handler.ALU_GE + op); }
                case 3 -> { modrm(); handler(Handler.ALU_GE + op); }
                case 4 -> { in.size = 1; accumulator(); in.imm = imm8(); handler(Handler.ALU_EI + op); }
                default -> { accumulator(); in.imm = immZ(in.size); handler(Handler.ALU_EI + op); }
            }
            return;
        }
        switch (b) {
            case 0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F -> { if (!invalidIn64()) { d64(); system(); } }
            case 0x27 -> { if (!invalidIn64()) { in.size = 1; handler(Handler.DAA); } }
            case 0x2F -> { if (!invalidIn64()) { in.size = 1; handler(Handler.DAS); } }
            case 0x37 -> { if (!invalidIn64()) { in.size = 1; handler(Handler.AAA); } }
            case 0x3F -> { if (!invalidIn64()) { in.size = 1; handler(Handler.AAS); } }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 -> { regInOpcode(b); handler(Handler.INC); }
            case 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> { regInOpcode(b); handler(Handler.DEC); }
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> { d64(); regInOpcode(b); handler(Handler.PUSH_R); }
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> { d64(); regInOpcode(b); handler(Handler.POP_R); }
            case 0x60 -> { if (!invalidIn64()) handler(Handler.PUSHA); }
            case 0x61 -> { if (!invalidIn64()) handler(Handler.POPA); }
            case 0x62 -> {
                // EVEX in 64-bit mode, or when the next byte would be a register ModRM (SDM Vol. 2A §2.7).
                if (mode == MODE64) { next(); unimplemented(); }
                else { modrm(); unimplemented(); } // EVEX or BOUND
            }
            case 0x63 -> {
                if (mode == MODE64) { modrm(); handler(Handler.MOVSXD); }
                else { modrm(); unimplemented(); } // ARPL
            }
            case 0x68 -> { d64(); in.imm = immZ(in.size == 2 ? 2 : 4); handler(Handler.PUSH_I); }
            case 0x69 -> { modrm(); in.imm = immZ(in.size); handler(Handler.IMUL_GEI); }
            case 0x6A -> { d64(); in.imm = imm8(); handler(Handler.PUSH_I); }
            case 0x6B -> { modrm(); in.imm = imm8(); handler(Handler.IMUL_GEI); }
            case 0x6C, 0x6E -> { in.size = 1; system(); }
            case 0x6D, 0x6F -> system();
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F -> {
                d64(); in.imm = imm8(); in.ext = b & 15; handler(Handler.JCC);
            }
            case 0x80, 0x82 -> {
                if (b == 0x82 && invalidIn64()) return;
                in.size = 1; modrm(); in.imm = imm8(); handler(Handler.ALU_EI + (in.reg & 7)); lockable = (in.reg & 7) != 7;
            }
            case 0x81 -> { modrm(); in.imm = immZ(in.size); handler(Handler.ALU_EI + (in.reg & 7)); lockable = (in.reg & 7) != 7; }
            case 0x83 -> { modrm(); in.imm = imm8(); handler(Handler.ALU_EI + (in.reg & 7)); lockable = (in.reg & 7) != 7; }
            case 0x84 -> { in.size = 1; modrm(); handler(Handler.TEST_EG); }
            case 0x85 -> { modrm(); handler(Handler.TEST_EG); }
            case 0x86 -> { in.size = 1; modrm(); handler(Handler.XCHG_EG); lockable = true; }
            case 0x87 -> { modrm(); handler(Handler.XCHG_EG); lockable = true; }
            case 0x88 -> { in.size = 1; modrm(); handler(Handler.MOV_EG); }
            case 0x89 -> { modrm(); handler(Handler.MOV_EG); }
            case 0x8A -> { in.size = 1; modrm(); handler(Handler.MOV_GE); }
            case 0x8B -> { modrm(); handler(Handler.MOV_GE); }
            case 0x8C -> { modrm(); if ((in.reg & 7) > 5) ud(); else system(); }
            case 0x8D -> { modrm(); if (in.mod == 3) ud(); else handler(Handler.LEA); }
            case 0x8E -> { modrm(); if ((in.reg & 7) > 5 || (in.reg & 7) == CpuState.CS) ud(); else system(); }
            case 0x8F -> { d64(); modrm(); if ((in.reg & 7) == 0) handler(Handler.POP_E); else unimplemented(); }
            case 0x90 -> {
                if (rexB != 0) { regInOpcode(b); in.reg = 0; handler(Handler.XCHG_EG); }
                else if ((in.prefixes & Insn.P_REP) != 0) handler(Handler.PAUSE);
                else handler(Handler.NOP);
            }
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> { regInOpcode(b); in.reg = 0; handler(Handler.XCHG_EG); }
            case 0x98 -> handler(Handler.CBW);
            case 0x99 -> handler(Handler.CWD);
            case 0x9A -> { if (!invalidIn64()) { in.imm = in.size == 2 ? imm16() & 0xFFFF : imm32() & 0xFFFF_FFFFL; in.imm2 = imm16() & 0xFFFF; system(); } }
            case 0x9B -> handler(Handler.FWAIT);
            case 0x9C, 0x9D -> { d64(); system(); }
            case 0x9E -> handler(Handler.SAHF);
            case 0x9F -> handler(Handler.LAHF);
            case 0xA0, 0xA1, 0xA2, 0xA3 -> {
                // moffs: an address-size offset, no ModRM (SDM Vol. 2A Appendix A.2.1 "O").
                if ((b & 1) == 0) in.size = 1;
                in.mod = 0;
                in.reg = 0;
                in.base = -1;
                in.disp = in.addrSize == 8 ? imm64() : in.addrSize == 4 ? imm32() & 0xFFFF_FFFFL : imm16() & 0xFFFF;
                handler(b < 0xA2 ? Handler.MOV_GE : Handler.MOV_EG);
            }
            case 0xA4, 0xA5 -> { if (b == 0xA4) in.size = 1; handler(Handler.MOVS); }
            case 0xA6, 0xA7 -> { if (b == 0xA6) in.size = 1; handler(Handler.CMPS); }
            case 0xA8 -> { in.size = 1; accumulator(); in.imm = imm8(); handler(Handler.TEST_EI); }
            case 0xA9 -> { accumulator(); in.imm = immZ(in.size); handler(Handler.TEST_EI); }
            case 0xAA, 0xAB -> { if (b == 0xAA) in.size = 1; handler(Handler.STOS); }
            case 0xAC, 0xAD -> { if (b == 0xAC) in.size = 1; handler(Handler.LODS); }
            case 0xAE, 0xAF -> { if (b == 0xAE) in.size = 1; handler(Handler.SCAS); }
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> { in.size = 1; regInOpcode(b); in.imm = imm8(); handler(Handler.MOV_EI); }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                regInOpcode(b);
                in.imm = in.size == 8 ? imm64() : in.size == 4 ? imm32() : imm16();
                handler(Handler.MOV_EI);
            }
            case 0xC0 -> { in.size = 1; modrm(); in.imm = next(); shiftGroup(Handler.SHIFT_I); }
            case 0xC1 -> { modrm(); in.imm = next(); shiftGroup(Handler.SHIFT_I); }
            case 0xC2 -> { d64(); in.imm = imm16() & 0xFFFF; handler(Handler.RET); }
            case 0xC3 -> { d64(); handler(Handler.RET); }
            case 0xC4, 0xC5 -> {
                // VEX in 64-bit mode, or when the following byte has mod == 11b (SDM Vol. 2A §2.3.5); else LES/LDS.
                if (mode == MODE64) { next(); unimplemented(); }
                else { modrm(); if (in.mod == 3) unimplemented(); else system(); }
            }
            case 0xC6 -> {
                in.size = 1; modrm();
                if ((in.reg & 7) == 0) { in.imm = imm8(); handler(Handler.MOV_EI); }
                else if (in.mod == 3 && (in.reg & 7) == 7 && (in.rm & 7) == 0) { in.imm = imm8(); unimplemented(); } // XABORT
                else ud();
            }
            case 0xC7 -> {
                modrm();
                if ((in.reg & 7) == 0) { in.imm = immZ(in.size); handler(Handler.MOV_EI); }
                else if (in.mod == 3 && (in.reg & 7) == 7 && (in.rm & 7) == 0) { in.imm = immZ(in.size); unimplemented(); } // XBEGIN
                else ud();
            }
            case 0xC8 -> { d64(); in.imm = imm16() & 0xFFFF; in.imm2 = next(); handler(Handler.ENTER); }
            case 0xC9 -> { d64(); handler(Handler.LEAVE); }
            case 0xCA -> { in.imm = imm16() & 0xFFFF; system(); }
            case 0xCB, 0xCC, 0xCF, 0xF1 -> system();
            case 0xCD -> { in.imm = next(); system(); }
            case 0xCE -> { if (!invalidIn64()) system(); }
            case 0xD0 -> { in.size = 1; modrm(); in.imm = 1; shiftGroup(Handler.SHIFT_I); }
            case 0xD1 -> { modrm(); in.imm = 1; shiftGroup(Handler.SHIFT_I); }
            case 0xD2 -> { in.size = 1; modrm(); shiftGroup(Handler.SHIFT_CL); }
            case 0xD3 -> { modrm(); shiftGroup(Handler.SHIFT_CL); }
            case 0xD4 -> { if (!invalidIn64()) { in.size = 1; in.imm = next(); handler(Handler.AAM); } }
            case 0xD5 -> { if (!invalidIn64()) { in.size = 1; in.imm = next(); handler(Handler.AAD); } }
            case 0xD6 -> { if (!invalidIn64()) { in.size = 1; handler(Handler.SALC); } }
            case 0xD7 -> { in.size = 1; handler(Handler.XLAT); }
            case 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF -> x87(b);
            case 0xE0, 0xE1, 0xE2, 0xE3 -> {
                d64();
                in.imm = imm8();
                handler(b == 0xE0 ? Handler.LOOPNE : b == 0xE1 ? Handler.LOOPE : b == 0xE2 ? Handler.LOOP : Handler.JRCXZ);
            }
            case 0xE4, 0xE6 -> { in.size = 1; in.imm = next(); system(); }
            case 0xE5, 0xE7 -> { in.imm = next(); system(); }
            case 0xE8 -> { d64(); in.imm = in.size == 2 ? imm16() : imm32(); handler(Handler.CALL_REL); }
            case 0xE9 -> { d64(); in.imm = in.size == 2 ? imm16() : imm32(); handler(Handler.JMP_REL); }
            case 0xEA -> { if (!invalidIn64()) { in.imm = in.size == 2 ? imm16() & 0xFFFF : imm32() & 0xFFFF_FFFFL; in.imm2 = imm16() & 0xFFFF; system(); } }
            case 0xEB -> { d64(); in.imm = imm8(); handler(Handler.JMP_REL); }
            case 0xEC, 0xEE -> { in.size = 1; system(); }
            case 0xED, 0xEF -> system();
            case 0xF4, 0xFA, 0xFB -> system();
            case 0xF5 -> handler(Handler.CMC);
            case 0xF6, 0xF7 -> {
                if (b == 0xF6) in.size = 1;
                modrm();
                switch (in.reg & 7) {
                    case 0, 1 -> { in.imm = in.size == 1 ? imm8() : immZ(in.size); handler(Handler.TEST_EI); }
                    case 2 -> { handler(Handler.NOT); lockable = true; }
                    case 3 -> { handler(Handler.NEG); lockable = true; }
                    case 4 -> handler(Handler.MUL);
                    case 5 -> handler(Handler.IMUL1);
                    case 6 -> handler(Handler.DIV);
                    default -> handler(Handler.IDIV);
                }
            }
            case 0xF8 -> handler(Handler.CLC);
            case 0xF9 -> handler(Handler.STC);
            case 0xFC -> handler(Handler.CLD);
            case 0xFD -> handler(Handler.STD);
            case 0xFE -> {
                in.size = 1; modrm();
                switch (in.reg & 7) {
                    case 0 -> { handler(Handler.INC); lockable = true; }
                    case 1 -> { handler(Handler.DEC); lockable = true; }
                    default -> ud();
                }
            }
            case 0xFF -> {
                int r = peekReg();
                if (r == 2 || r == 4 || r == 6) d64();
                modrm();
                switch (in.reg & 7) {
                    case 0 -> { handler(Handler.INC); lockable = true; }
                    case 1 -> { handler(Handler.DEC); lockable = true; }
                    case 2 -> handler(Handler.CALL_E);
                    case 3, 5 -> { if (in.mod == 3) ud(); else system(); }
                    case 4 -> handler(Handler.JMP_E);
                    case 6 -> handler(Handler.PUSH_E);
                    default -> ud();
                }
            }
            default -> ud();
        }
    }

    /** ModRM reg field of the next byte without consuming it (for groups whose operand size depends on it). */
    private int peekReg() {
        return (src.byteAt(start + pos) >>> 3) & 7;
    }

    private void shiftGroup(int h) {
        in.ext = in.reg & 7;
        handler(h);
    }

    /** x87 escape: only the control/status-word instructions kernels use around FXSAVE; the rest is unimplemented. */
    private void x87(int b) {
        modrm();
        int r = in.reg & 7;
        if (in.mod == 3) {
            int low = in.rm & 7;
            if (b == 0xDB && r == 4 && low == 3) handler(Handler.FNINIT);
            else if (b == 0xDB && r == 4 && low == 2) { in.ext = 1; handler(Handler.FNINIT); } // FNCLEX
            else if (b == 0xDF && r == 4 && low == 0) { in.size = 2; in.ext = 1; handler(Handler.FNSTSW); } // FNSTSW AX
            else unimplemented();
            return;
        }
        if (b == 0xD9 && r == 7) { in.size = 2; handler(Handler.FNSTCW); }
        else if (b == 0xD9 && r == 5) { in.size = 2; handler(Handler.FLDCW); }
        else if (b == 0xDD && r == 7) { in.size = 2; handler(Handler.FNSTSW); }
        else unimplemented();
    }

    // ------------------------------------------------------------------ 0F map

    private void decode0F(int b) {
        Insn in = this.in;
        switch (b) {
            case 0x00 -> { modrm(); if ((in.reg & 7) >= 6) ud(); else system(); } // group 6 /6 /7 are invalid
            case 0x01 -> { modrm(); if ((in.reg & 7) == 5 && in.mod != 3 && mandatory != 2) ud(); else system(); }
            case 0x02, 0x03 -> { modrm(); system(); }
            case 0x05, 0x06, 0x07, 0x08, 0x09, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0xA2 -> system();
            case 0x0B -> ud();
            case 0x0D -> { modrm(); if (in.mod == 3) ud(); else handler(Handler.NOP); }
            case 0x0E, 0x37, 0x77, 0xAA -> unimplemented();
            case 0x0F -> { modrm(); in.imm = next(); unimplemented(); } // 3DNow!
            case 0x10, 0x11 -> sseMove(b);
            case 0x12, 0x13, 0x16, 0x17 -> sseHalfMove(b);
            case 0x14, 0x15 -> {
                modrm();
                if (mandatory == 0) sse(b == 0x14 ? SseOp.UNPCKLPS : SseOp.UNPCKHPS);
                else if (mandatory == 1) sse(b == 0x14 ? SseOp.UNPCKLPD : SseOp.UNPCKHPD);
                else ud();
            }
            case 0x18 -> { modrm(); handler(Handler.NOP); }
            case 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F -> { modrm(); handler(Handler.NOP); }
            case 0x20, 0x21, 0x22, 0x23 -> {
                // MOV to/from CRn/DRn: the r/m operand is always a register whatever mod says (SDM Vol. 2B MOV-Control Registers).
                int m = next();
                in.hasModrm = true;
                in.mod = 3;
                in.reg = ((m >>> 3) & 7) | rexR;
                in.rm = (m & 7) | rexB;
                in.opSize = mode == MODE64 ? 8 : 4;
                in.size = in.opSize;
                system();
            }
            case 0x28, 0x29 -> {
                modrm();
                if (mandatory <= 1) sse(b == 0x28 ? SseOp.MOVA_X_XM : SseOp.MOVA_XM_X);
                else unimplemented();
            }
            case 0x2B -> { modrm(); if (mandatory <= 1 && in.mod != 3) sse(SseOp.MOVNT_M_X); else unimplemented(); }
            case 0x2A, 0x2C, 0x2D, 0x2E, 0x2F -> { modrm(); sseFloat(b); }
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> {
                modrm(); in.ext = b & 15; handler(Handler.CMOV);
            }
            case 0x50 -> {
                modrm();
                if (in.mod != 3) ud();
                else if (mandatory == 0) sse(SseOp.MOVMSKPS);
                else if (mandatory == 1) sse(SseOp.MOVMSKPD);
                else ud();
            }
            case 0x54, 0x55, 0x56, 0x57 -> {
                modrm();
                if (mandatory <= 1) sse(SseOp.AND + (b - 0x54));
                else ud();
            }
            case 0x51, 0x52, 0x53, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> { modrm(); sseFloat(b); }
            case 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D -> {
                modrm();
                if (mandatory != 1) { if (b >= 0x6C) ud(); else unimplemented(); return; }
                sse(switch (b) {
                    case 0x60 -> SseOp.PUNPCKLBW; case 0x61 -> SseOp.PUNPCKLWD; case 0x62 -> SseOp.PUNPCKLDQ;
                    case 0x63 -> SseOp.PACKSSWB; case 0x64 -> SseOp.PCMPGTB; case 0x65 -> SseOp.PCMPGTW;
                    case 0x66 -> SseOp.PCMPGTD; case 0x67 -> SseOp.PACKUSWB; case 0x68 -> SseOp.PUNPCKHBW;
                    case 0x69 -> SseOp.PUNPCKHWD; case 0x6A -> SseOp.PUNPCKHDQ; case 0x6B -> SseOp.PACKSSDW;
                    case 0x6C -> SseOp.PUNPCKLQDQ; default -> SseOp.PUNPCKHQDQ;
                });
            }
            case 0x6E -> { modrm(); if (mandatory == 1) { sse(SseOp.MOVD_X_E); in.size = rexW ? 8 : 4; } else unimplemented(); }
            case 0x7E -> {
                modrm();
                if (mandatory == 1) { sse(SseOp.MOVD_E_X); in.size = rexW ? 8 : 4; }
                else if (mandatory == 2) sse(SseOp.MOVQ_X_XM);
                else unimplemented();
            }
            case 0x6F, 0x7F -> {
                modrm();
                if (mandatory == 1) sse(b == 0x6F ? SseOp.MOVA_X_XM : SseOp.MOVA_XM_X);
                else if (mandatory == 2) sse(b == 0x6F ? SseOp.MOVU_X_XM : SseOp.MOVU_XM_X);
                else unimplemented();
            }
            case 0x70 -> {
                modrm(); in.imm = next();
                if (mandatory == 1) sse(SseOp.PSHUFD);
                else if (mandatory == 2) sse(SseOp.PSHUFHW);
                else if (mandatory == 3) sse(SseOp.PSHUFLW);
                else unimplemented();
            }
            case 0x71, 0x72, 0x73 -> {
                modrm(); in.imm = next();
                if (in.mod != 3) { ud(); return; }
                if (mandatory != 1) { unimplemented(); return; }
                int r = in.reg & 7;
                int op = switch (b << 4 | r) {
                    case 0x712 -> SseOp.PSRLW; case 0x714 -> SseOp.PSRAW; case 0x716 -> SseOp.PSLLW;
                    case 0x722 -> SseOp.PSRLD; case 0x724 -> SseOp.PSRAD; case 0x726 -> SseOp.PSLLD;
                    case 0x732 -> SseOp.PSRLQ; case 0x733 -> SseOp.PSRLDQ; case 0x736 -> SseOp.PSLLQ;
                    case 0x737 -> SseOp.PSLLDQ;
                    default -> -1;
                };
                if (op < 0) ud(); else sse(op | SseOp.SHIFT_IMM);
            }
            case 0x74, 0x75, 0x76 -> {
                modrm();
                if (mandatory == 1) sse(SseOp.PCMPEQB + (b - 0x74)); else if (mandatory == 0) unimplemented(); else ud();
            }
            case 0x78, 0x79, 0x7C, 0x7D -> { modrm(); unimplemented(); }
            case 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F -> {
                d64(); in.imm = in.size == 2 ? imm16() : imm32(); in.ext = b & 15; handler(Handler.JCC);
            }
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F -> {
                in.size = 1; modrm(); in.ext = b & 15; handler(Handler.SETCC);
            }
            case 0xA0, 0xA1, 0xA8, 0xA9 -> { d64(); system(); }
            case 0xA3 -> { modrm(); handler(Handler.BT_EG); }
            case 0xAB -> { modrm(); handler(Handler.BTS_EG); lockable = true; }
            case 0xB3 -> { modrm(); handler(Handler.BTR_EG); lockable = true; }
            case 0xBB -> { modrm(); handler(Handler.BTC_EG); lockable = true; }
            case 0xA4 -> { modrm(); in.imm = next(); handler(Handler.SHLD_I); }
            case 0xA5 -> { modrm(); handler(Handler.SHLD_CL); }
            case 0xAC -> { modrm(); in.imm = next(); handler(Handler.SHRD_I); }
            case 0xAD -> { modrm(); handler(Handler.SHRD_CL); }
            case 0xAE -> group15();
            case 0xAF -> { modrm(); handler(Handler.IMUL_GE); }
            case 0xB0 -> { in.size = 1; modrm(); handler(Handler.CMPXCHG); lockable = true; }
            case 0xB1 -> { modrm(); handler(Handler.CMPXCHG); lockable = true; }
            case 0xB2, 0xB4, 0xB5 -> { modrm(); if (in.mod == 3) ud(); else system(); }
            case 0xB6, 0xBE -> { modrm(); in.ext = 1; handler(b == 0xB6 ? Handler.MOVZX : Handler.MOVSX); }
            case 0xB7, 0xBF -> { modrm(); in.ext = 2; handler(b == 0xB7 ? Handler.MOVZX : Handler.MOVSX); }
            case 0xB8 -> { if (mandatory == 2) { modrm(); handler(Handler.POPCNT); } else ud(); }
            case 0xB9, 0xFF -> { modrm(); ud(); }
            case 0xBA -> {
                modrm(); in.imm = next();
                int r = in.reg & 7;
                if (r < 4) ud();
                else { in.ext = r; handler(Handler.BT_EI); lockable = r != 4; }
            }
            case 0xBC -> { modrm(); handler(mandatory == 2 && tzcnt ? Handler.TZCNT : Handler.BSF); }
            case 0xBD -> { modrm(); handler(mandatory == 2 && lzcnt ? Handler.LZCNT : Handler.BSR); }
            case 0xC0 -> { in.size = 1; modrm(); handler(Handler.XADD); lockable = true; }
            case 0xC1 -> { modrm(); handler(Handler.XADD); lockable = true; }
            case 0xC2 -> { modrm(); in.imm = next(); sseFloat(b); }
            case 0xC3 -> { modrm(); if (in.mod == 3 || mandatory != 0) ud(); else handler(Handler.MOVNTI); }
            case 0xC4 -> { modrm(); in.imm = next(); if (mandatory == 1) { sse(SseOp.PINSRW); } else unimplemented(); }
            case 0xC5 -> {
                modrm(); in.imm = next();
                if (in.mod != 3) ud(); else if (mandatory == 1) sse(SseOp.PEXTRW); else unimplemented();
            }
            case 0xC6 -> {
                modrm(); in.imm = next();
                if (mandatory == 0) sse(SseOp.SHUFPS); else if (mandatory == 1) sse(SseOp.SHUFPD); else ud();
            }
            case 0xC7 -> group9();
            case 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF -> { regInOpcode(b); handler(Handler.BSWAP); }
            default -> {
                if (b == 0xE6) { modrm(); sseFloat(b); }
                else if (b >= 0xD0) sse2Integer(b);
                else ud();
            }
        }
    }

    private void sse(int op) {
        in.handler = Handler.SSE;
        in.ext = op;
        in.size = 16;
    }

    /** SSE/SSE2 floating-point forms (executed by {@link SseFloat}); 2A/2C/2D move a 32- or 64-bit general operand. */
    private void sseFloat(int b) {
        switch (SseFloat.form(b, mandatory)) {
            case 1 -> {
                sse(SseOp.FLOAT | b << 2 | mandatory);
                if (b == 0x2A || b == 0x2C || b == 0x2D) in.size = rexW ? 8 : 4;
            }
            case 0 -> ud();
            default -> unimplemented();
        }
    }

    private void sseMove(int b) {
        modrm();
        boolean load = b == 0x10;
        switch (mandatory) {
            case 0, 1 -> sse(load ? SseOp.MOVU_X_XM : SseOp.MOVU_XM_X);
            case 2 -> sse(load ? SseOp.MOVSS_X_XM : SseOp.MOVSS_XM_X);
            default -> sse(load ? SseOp.MOVSD_X_XM : SseOp.MOVSD_XM_X);
        }
    }

    private void sseHalfMove(int b) {
        modrm();
        if (mandatory >= 2) {
            // MOVSLDUP/MOVSHDUP/MOVDDUP (SSE3) are not advertised.
            if (b == 0x12 || b == 0x16) unimplemented(); else ud();
            return;
        }
        boolean reg = in.mod == 3;
        switch (b) {
            case 0x12 -> { if (reg) { if (mandatory == 0) sse(SseOp.MOVHLPS); else ud(); } else sse(SseOp.MOVLPS_X_M); }
            case 0x13 -> { if (reg) ud(); else sse(SseOp.MOVLPS_M_X); }
            case 0x16 -> { if (reg) { if (mandatory == 0) sse(SseOp.MOVLHPS); else ud(); } else sse(SseOp.MOVHPS_X_M); }
            default -> { if (reg) ud(); else sse(SseOp.MOVHPS_M_X); }
        }
    }

    private void group15() {
        modrm();
        int r = in.reg & 7;
        if (in.mod == 3) {
            if (mandatory == 2 && r < 4) { unimplemented(); return; } // RD/WR FS/GS BASE: not advertised
            if (mandatory == 0 && r >= 5) { in.ext = r; handler(Handler.FENCE); return; }
            ud();
            return;
        }
        if (mandatory != 0 && !(mandatory == 1 && r >= 6)) { ud(); return; }
        switch (r) {
            case 0 -> handler(Handler.FXSAVE);
            case 1 -> handler(Handler.FXRSTOR);
            case 2 -> { in.size = 4; handler(Handler.LDMXCSR); }
            case 3 -> { in.size = 4; handler(Handler.STMXCSR); }
            case 7 -> handler(Handler.CLFLUSH);
            default -> unimplemented(); // XSAVE, XRSTOR, XSAVEOPT / CLWB: not advertised
        }
    }

    private void group9() {
        modrm();
        int r = in.reg & 7;
        if (r == 1 && in.mod != 3) {
            lockable = true;
            handler(rexW ? Handler.CMPXCHG16B : Handler.CMPXCHG8B);
            in.size = rexW ? 16 : 8;
        } else if (r >= 3 && r != 5 || r == 6 || r == 7) {
            unimplemented(); // XRSTORS/XSAVEC/XSAVES, VMPTRLD/VMPTRST, RDRAND/RDSEED/RDPID: not advertised
        } else {
            ud();
        }
    }

    /** 0F D0..FE: SSE2 integer operations on XMM with the 66 prefix; without it they are MMX (unimplemented). */
    private void sse2Integer(int b) {
        modrm();
        if (mandatory != 1) {
            if (b == 0xD6 && mandatory >= 2 && in.mod == 3) unimplemented(); // MOVQ2DQ / MOVDQ2Q
            else if (b == 0xE6 && mandatory >= 2) unimplemented();          // CVTDQ2PD / CVTPD2DQ
            else if (b == 0xF0 && mandatory == 3 && in.mod != 3) unimplemented(); // LDDQU
            else if (mandatory == 0 && b != 0xD0 && b != 0xD6 && b != 0xE6 && b != 0xF0) unimplemented(); // MMX
            else ud();
            return;
        }
        int op = switch (b) {
            case 0xD1 -> SseOp.PSRLW; case 0xD2 -> SseOp.PSRLD; case 0xD3 -> SseOp.PSRLQ; case 0xD4 -> SseOp.PADDQ;
            case 0xD5 -> SseOp.PMULLW; case 0xD6 -> SseOp.MOVQ_XM_X; case 0xD7 -> SseOp.PMOVMSKB;
            case 0xD8 -> SseOp.PSUBUSB; case 0xD9 -> SseOp.PSUBUSW; case 0xDA -> SseOp.PMINUB; case 0xDB -> SseOp.AND;
            case 0xDC -> SseOp.PADDUSB; case 0xDD -> SseOp.PADDUSW; case 0xDE -> SseOp.PMAXUB; case 0xDF -> SseOp.ANDN;
            case 0xE0 -> SseOp.PAVGB; case 0xE1 -> SseOp.PSRAW; case 0xE2 -> SseOp.PSRAD; case 0xE3 -> SseOp.PAVGW;
            case 0xE4 -> SseOp.PMULHUW; case 0xE5 -> SseOp.PMULHW; case 0xE7 -> SseOp.MOVNT_M_X;
            case 0xE8 -> SseOp.PSUBSB; case 0xE9 -> SseOp.PSUBSW; case 0xEA -> SseOp.PMINSW; case 0xEB -> SseOp.OR;
            case 0xEC -> SseOp.PADDSB; case 0xED -> SseOp.PADDSW; case 0xEE -> SseOp.PMAXSW; case 0xEF -> SseOp.XOR;
            case 0xF1 -> SseOp.PSLLW; case 0xF2 -> SseOp.PSLLD; case 0xF3 -> SseOp.PSLLQ; case 0xF4 -> SseOp.PMULUDQ;
            case 0xF5 -> SseOp.PMADDWD; case 0xF6 -> SseOp.PSADBW;
            case 0xF8 -> SseOp.PSUBB; case 0xF9 -> SseOp.PSUBW; case 0xFA -> SseOp.PSUBD; case 0xFB -> SseOp.PSUBQ;
            case 0xFC -> SseOp.PADDB; case 0xFD -> SseOp.PADDW; case 0xFE -> SseOp.PADDD;
            case 0xD0, 0xE6, 0xF7 -> -2; // ADDSUBPD, CVTTPD2DQ, MASKMOVDQU
            default -> -1;
        };
        if (op == -2) { unimplemented(); return; }
        if (op < 0) { ud(); return; }
        if (op == SseOp.PMOVMSKB && in.mod != 3) { ud(); return; }
        if (op == SseOp.MOVNT_M_X && in.mod == 3) { ud(); return; }
        sse(op);
    }

    // ------------------------------------------------------------------ specialised handlers

    /**
     * Register-only ALU, MOV and TEST with a 32- or 64-bit operand get their own handlers (the
     * commonest instructions of compiled code): the executor then reads and writes {@code s.gpr}
     * directly instead of going through the generic operand helpers' size and ModRM tests.
     * Same semantics as the generic handler; nothing else about the instruction changes.
     */
    private static void specialise(Insn in) {
        if ((in.size != 8 && in.size != 4) || (in.prefixes & Insn.P_LOCK) != 0) return;
        boolean q = in.size == 8;
        int h = in.handler;
        if (in.mod != 3) {
            // MOV r, [base + disp] and MOV [base + disp], r with 64-bit addressing: the offset needs no mask.
            if (!in.hasModrm || in.addrSize != 8 || in.base < 0 || in.base == Insn.BASE_RIP || in.index >= 0) return;
            if (h == Handler.MOV_GE) {
                in.dst = in.reg; in.handler = q ? Handler.MOV_LOAD64 : Handler.MOV_LOAD32;
            } else if (h == Handler.MOV_EG) {
                in.src = in.reg; in.handler = q ? Handler.MOV_STORE64 : Handler.MOV_STORE32;
            }
            return;
        }
        if (h >= Handler.ALU_EG && h < Handler.ALU_EG + 8) {
            in.dst = in.rm; in.src = in.reg; in.handler = (q ? Handler.ALU_RR64 : Handler.ALU_RR32) + (h - Handler.ALU_EG);
        } else if (h >= Handler.ALU_GE && h < Handler.ALU_GE + 8) {
            in.dst = in.reg; in.src = in.rm; in.handler = (q ? Handler.ALU_RR64 : Handler.ALU_RR32) + (h - Handler.ALU_GE);
        } else if (h >= Handler.ALU_EI && h < Handler.ALU_EI + 8) {
            in.dst = in.rm; in.handler = (q ? Handler.ALU_RI64 : Handler.ALU_RI32) + (h - Handler.ALU_EI);
        } else if (h == Handler.MOV_EG) {
            in.dst = in.rm; in.src = in.reg; in.handler = q ? Handler.MOV_RR64 : Handler.MOV_RR32;
        } else if (h == Handler.MOV_GE) {
            in.dst = in.reg; in.src = in.rm; in.handler = q ? Handler.MOV_RR64 : Handler.MOV_RR32;
        } else if (h == Handler.MOV_EI) {
            in.dst = in.rm; in.handler = q ? Handler.MOV_RI64 : Handler.MOV_RI32;
        } else if (h == Handler.TEST_EG) {
            in.dst = in.rm; in.src = in.reg; in.handler = q ? Handler.TEST_RR64 : Handler.TEST_RR32;
        } else if (h == Handler.INC) {
            in.dst = in.rm; in.handler = q ? Handler.INC_R64 : Handler.INC_R32;
        } else if (h == Handler.DEC) {
            in.dst = in.rm; in.handler = q ? Handler.DEC_R64 : Handler.DEC_R32;
        }
    }

    // ------------------------------------------------------------------ attributes

    private static int attributes(Insn in) {
        int a = 0;
        boolean mem = in.hasModrm && in.mod != 3 || in.handler == Handler.MOV_EG && !in.hasModrm && in.base == -1 && in.mod == 0;
        switch (in.handler) {
            case Handler.UD, Handler.UNIMPLEMENTED, Handler.GP_LENGTH, Handler.SYSTEM,
                 Handler.JCC, Handler.JMP_REL, Handler.CALL_REL, Handler.RET, Handler.JMP_E, Handler.LOOP,
                 Handler.LOOPE, Handler.LOOPNE, Handler.JRCXZ -> a |= Insn.A_ENDS_BLOCK;
            case Handler.CALL_E -> a |= Insn.A_ENDS_BLOCK | Insn.A_WRITES_MEMORY;
            case Handler.PUSH_R, Handler.PUSH_E, Handler.PUSH_I, Handler.ENTER, Handler.PUSHA, Handler.MOVS,
                 Handler.STOS -> a |= Insn.A_WRITES_MEMORY;
            case Handler.ALU_EG + 7, Handler.ALU_EI + 7, Handler.TEST_EG, Handler.TEST_EI, Handler.BT_EG,
                 Handler.MOV_GE, Handler.LEA, Handler.MUL, Handler.IMUL1, Handler.DIV, Handler.IDIV -> { }
            case Handler.SSE -> {
                switch (in.ext) {
                    case SseOp.MOVU_XM_X, SseOp.MOVA_XM_X, SseOp.MOVSS_XM_X, SseOp.MOVSD_XM_X, SseOp.MOVLPS_M_X,
                         SseOp.MOVHPS_M_X, SseOp.MOVD_E_X, SseOp.MOVQ_XM_X, SseOp.MOVNT_M_X -> { if (mem) a |= Insn.A_WRITES_MEMORY; }
                    default -> { }
                }
            }
            default -> { if (mem) a |= Insn.A_WRITES_MEMORY; }
        }
        if (in.handler == Handler.BT_EI && in.ext == 4) a &= ~Insn.A_WRITES_MEMORY;
        // A REP string instruction may yield with RIP left on itself (a chunk done): it ends its block,
        // so the executor never tests a per-instruction "end block" flag.
        if (in.handler >= Handler.MOVS && in.handler <= Handler.SCAS && (in.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0) {
            a |= Insn.A_ENDS_BLOCK;
        }
        return a;
    }
}
