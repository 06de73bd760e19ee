package dev.jkvm.vmm.emulated.cpu;

/**
 * One decoded instruction. Decoded once, cached by physical address (see {@code DecodedCache}),
 * executed many times: nothing here depends on register values, only on the bytes and the mode
 * they were decoded in.
 *
 * <p>Owned by the decoder (ISA side). The system side ({@link SystemInstructions}) reads only the
 * fields documented as shared: {@link #opcode}, {@link #prefixes}, {@link #opSize},
 * {@link #addrSize}, {@link #mod}, {@link #reg}, {@link #rm}, {@link #imm}, {@link #imm2},
 * {@link #length}; memory operands it reaches through {@link Operands}.
 */
public final class Insn {
    /** Opcode maps (SDM Vol. 2A §2.1.2): one-byte, 0F, 0F 38, 0F 3A. */
    public static final int MAP_1 = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3;

    /** Prefix bits in {@link #prefixes} (SDM Vol. 2A §2.1.1). */
    public static final int P_LOCK = 1, P_REP = 2 /* F3 */, P_REPNE = 4 /* F2 */, P_OPSIZE = 8 /* 66 */,
            P_ADDRSIZE = 16 /* 67 */, P_REX = 32, P_SEGMENT = 64 /* an explicit segment override */;

    /** {@code map << 8 | opcode byte}: 0x0F 0x01 is {@code 0x101}, 0x0F 0x38 0xF0 is {@code 0x2F0}. */
    public int opcode;
    public int prefixes;
    /** REX byte (0x40..0x4F) or 0. */
    public int rex;
    /** Operand size in bytes for the non-byte forms: 2, 4 or 8 (byte forms are known from the opcode). */
    public int opSize;
    /** Address size in bytes: 2, 4 or 8. */
    public int addrSize;
    /** Effective segment of the memory operand (CpuState.ES..GS): the override, or DS/SS by base register. */
    public int segment;

    public boolean hasModrm;
    /** ModRM fields; {@link #reg} and {@link #rm} include REX.R / REX.B (0..15). rm names a register only when mod == 3. */
    public int mod, reg, rm;
    /** Memory operand: base and index register numbers (0..15), -1 for none; base == BASE_RIP for RIP-relative. */
    public int base = -1, index = -1;
    public static final int BASE_RIP = 16;
    /** SIB scale as a shift count 0..3. */
    public int scale;
    public long disp;

    /** First and second immediates (ENTER has two; a far pointer is selector in imm2, offset in imm). */
    public long imm, imm2;

    /** Encoded length in bytes, prefixes included (at most 15, SDM Vol. 2A §2.3.11). */
    public int length;

    /** Execution handler chosen at decode time (ISA side), so dispatch is one switch on an int. */
    public int handler;

    // ---- ISA-side additions (additive to the contract) ----

    /** Operand size in bytes including byte forms: 1, 2, 4, 8 (16 for 128-bit SSE operands). */
    public int size;
    /** Code size the bytes were decoded in: 2, 4 or 8 (16-bit, 32-bit, 64-bit code). */
    public int mode;
    /** Handler-specific sub-operation (ALU op, shift kind, SSE operation, condition code...). */
    public int ext;
    /** Decode attributes, {@code A_*}. */
    public int attrs;
    /** Destination and source registers (0..15) of the register-only handlers ({@code Handler.ALU_RR64} etc.). */
    public int dst, src;
    /** The instruction's bytes (for the unimplemented-opcode record and debugging). */
    public byte[] bytes;

    /** Attribute: ends a decoded block (branch, system instruction, #UD...). */
    public static final int A_ENDS_BLOCK = 1;
    /** Attribute: may store to memory (the executor re-checks its block's code page after it). */
    public static final int A_WRITES_MEMORY = 2;

    /** The bytes as "0f 01 d0" for messages. */
    public String hexBytes() {
        StringBuilder b = new StringBuilder();
        int n = bytes == null ? 0 : Math.min(length, bytes.length);
        for (int i = 0; i < n; i++) {
            if (i > 0) b.append(' ');
            b.append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append(Character.forDigit(bytes[i] & 0xF, 16));
        }
        return b.toString();
    }
}
