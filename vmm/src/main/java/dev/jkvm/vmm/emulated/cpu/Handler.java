package dev.jkvm.vmm.emulated.cpu;

/**
 * Execution handler numbers the decoder stores in {@link Insn#handler}; the executor dispatches
 * on them with one {@code switch}. Dense from 0 so the switch compiles to a jump table.
 */
final class Handler {
    private Handler() {}

    /** Architecturally invalid encoding: #UD (UD0/UD1/UD2, LOCK where not allowed, invalid in this mode). */
    static final int UD = 0;
    /** A valid instruction this emulator does not implement: #UD plus a counted record for the summary. */
    static final int UNIMPLEMENTED = 1;
    /** Longer than 15 bytes: #GP(0) (SDM Vol. 2A §2.3.11). */
    static final int GP_LENGTH = 2;
    /** Handed to {@link SystemInstructions#execute} whole. */
    static final int SYSTEM = 3;

    // ALU with operation in the handler: base + op, op = ModRM reg order ADD OR ADC SBB AND SUB XOR CMP.
    static final int ALU_EG = 8;    // 8..15   r/m op= reg
    static final int ALU_GE = 16;   // 16..23  reg op= r/m
    static final int ALU_EI = 24;   // 24..31  r/m op= imm

    static final int TEST_EG = 32, TEST_EI = 33, XCHG_EG = 34, MOV_EG = 35, MOV_GE = 36, MOV_EI = 37, LEA = 38;
    static final int INC = 39, DEC = 40, NOT = 41, NEG = 42, MUL = 43, IMUL1 = 44, DIV = 45, IDIV = 46;
    static final int IMUL_GE = 47, IMUL_GEI = 48;
    static final int SHIFT_I = 49, SHIFT_CL = 50, SHLD_I = 51, SHLD_CL = 52, SHRD_I = 53, SHRD_CL = 54;
    static final int BT_EG = 55, BTS_EG = 56, BTR_EG = 57, BTC_EG = 58, BT_EI = 59; // BT_EI: ext = 4..7
    static final int BSF = 60, BSR = 61, TZCNT = 62, LZCNT = 63, POPCNT = 64;
    static final int CMOV = 65, SETCC = 66, JCC = 67, JMP_REL = 68, CALL_REL = 69, RET = 70, JMP_E = 71,
            CALL_E = 72, LOOP = 73, LOOPE = 74, LOOPNE = 75, JRCXZ = 76;
    static final int PUSH_R = 77, POP_R = 78, PUSH_E = 79, POP_E = 80, PUSH_I = 81, ENTER = 82, LEAVE = 83,
            PUSHA = 84, POPA = 85;
    static final int MOVZX = 86, MOVSX = 87, MOVSXD = 88, NOP = 89, PAUSE = 90, CBW = 91, CWD = 92;
    static final int LAHF = 93, SAHF = 94, CLC = 95, STC = 96, CMC = 97, CLD = 98, STD = 99;
    static final int CMPXCHG = 100, CMPXCHG8B = 101, CMPXCHG16B = 102, XADD = 103, BSWAP = 104;
    static final int MOVS = 105, CMPS = 106, STOS = 107, LODS = 108, SCAS = 109;
    static final int XLAT = 110, DAA = 111, DAS = 112, AAA = 113, AAS = 114, AAM = 115, AAD = 116, SALC = 117;
    static final int FENCE = 118, CLFLUSH = 119, MOVNTI = 120;
    static final int FXSAVE = 121, FXRSTOR = 122, LDMXCSR = 123, STMXCSR = 124;
    static final int FNINIT = 125, FNSTSW = 126, FNSTCW = 127, FLDCW = 128, FWAIT = 129;
    /** SSE/SSE2: operation in {@link Insn#ext} (see {@link Sse}). */
    static final int SSE = 130;


    // Register-only forms of the commonest instructions with a 32- or 64-bit operand, chosen at
    // decode time (Insn.dst/src hold the registers) so they skip the generic operand helpers.
    static final int ALU_RR64 = 131;  // 131..138 dst op= src, op as for ALU_EG
    static final int ALU_RR32 = 139;  // 139..146
    static final int ALU_RI64 = 147;  // 147..154 dst op= imm
    static final int ALU_RI32 = 155;  // 155..162
    static final int MOV_RR64 = 163, MOV_RR32 = 164, MOV_RI64 = 165, MOV_RI32 = 166, TEST_RR64 = 167, TEST_RR32 = 168;

    // MOV between a register and [base + disp] (64-bit addressing, no index), 32 or 64 bits; INC/DEC of a register.
    static final int MOV_LOAD64 = 169, MOV_LOAD32 = 170, MOV_STORE64 = 171, MOV_STORE32 = 172;
    static final int INC_R64 = 173, INC_R32 = 174, DEC_R64 = 175, DEC_R32 = 176;

    static final int COUNT = 177;
}
