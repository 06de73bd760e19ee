package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.vmm.emulated.lockstep.X86State.AF;
import static dev.jkvm.vmm.emulated.lockstep.X86State.ARITHMETIC;
import static dev.jkvm.vmm.emulated.lockstep.X86State.CF;
import static dev.jkvm.vmm.emulated.lockstep.X86State.OF;
import static dev.jkvm.vmm.emulated.lockstep.X86State.PF;
import static dev.jkvm.vmm.emulated.lockstep.X86State.SF;
import static dev.jkvm.vmm.emulated.lockstep.X86State.ZF;

/**
 * The RFLAGS bits an instruction leaves undefined, which two correct CPUs may set differently, so
 * the lockstep comparison ignores them after that instruction (and the harness then copies QEMU's
 * values into the CPU under test, so an undefined bit that later flows into a register through
 * PUSHF, SETcc or ADC cannot show up as a false mismatch). From the "Flags Affected" section of
 * each instruction in Intel SDM Vol. 2 and Vol. 1 Appendix A (EFLAGS Cross-Reference):
 * <ul>
 *   <li>MUL, IMUL (all forms): SF, ZF, AF, PF.</li>
 *   <li>DIV, IDIV: all six.</li>
 *   <li>AND, OR, XOR, TEST: AF.</li>
 *   <li>SHL/SAL, SHR, SAR with a nonzero masked count: AF; OF when the count is not 1; CF when
 *       SHL/SHR count ≥ the operand width (8/16-bit operands).</li>
 *   <li>ROL, ROR, RCL, RCR: OF unless the masked count is 1.</li>
 *   <li>SHLD, SHRD with a nonzero count: AF; OF unless the count is 1; all six when the count
 *       exceeds the operand width.</li>
 *   <li>BSF, BSR: CF, OF, SF, AF, PF. TZCNT, LZCNT (F3 prefix): OF, SF, AF, PF.</li>
 *   <li>BT, BTS, BTR, BTC: OF, SF, AF, PF.</li>
 *   <li>DAA, DAS: OF. AAA, AAS: OF, SF, ZF, PF. AAM, AAD: OF, AF, CF.</li>
 * </ul>
 * The classification reads only prefixes, opcode, ModRM.reg and the count operand.
 */
final class UndefinedFlags {
    private UndefinedFlags() {}

    /**
     * @param code the instruction's bytes (at least its full length)
     * @param bits the code segment's default operand size: 16, 32 or 64
     * @param rcx RCX before the instruction (shift counts in CL)
     */
    static long of(byte[] code, int bits, long rcx) {
        int i = 0;
        boolean opsize = false, addrsize = false, rep = false;
        int rex = 0;
        loop:
        while (i < code.length) {
            int b = code[i] & 0xFF;
            switch (b) {
                case 0x66 -> opsize = true;
                case 0x67 -> addrsize = true;
                case 0xF3 -> rep = true;
                case 0xF0, 0xF2, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> { }
                default -> {
                    break loop;
                }
            }
            i++;
        }
        if (bits == 64 && i < code.length && (code[i] & 0xF0) == 0x40) rex = code[i++] & 0xFF;
        if (i >= code.length) return 0;
        int width = (rex & 8) != 0 ? 64 : bits == 16 ? (opsize ? 32 : 16) : (opsize ? 16 : 32);
        int addressBits = bits == 64 ? (addrsize ? 32 : 64) : bits == 32 ? (addrsize ? 16 : 32) : (addrsize ? 32 : 16);
        int countMask = (rex & 8) != 0 ? 0x3F : 0x1F;
        int op = code[i] & 0xFF;
        if (op == 0x0F) {
            if (i + 2 >= code.length) return 0;
            int op2 = code[i + 1] & 0xFF;
            int reg = (code[i + 2] >> 3) & 7;
            return switch (op2) {
                case 0xAF -> SF | ZF | AF | PF;
                case 0xBC, 0xBD -> rep ? OF | SF | AF | PF : CF | OF | SF | AF | PF;
                case 0xA3, 0xAB, 0xB3, 0xBB -> OF | SF | AF | PF;
                case 0xBA -> reg >= 4 ? OF | SF | AF | PF : 0;
                case 0xA4, 0xAC, 0xA5, 0xAD -> {
                    int count;
                    if (op2 == 0xA5 || op2 == 0xAD) {
                        count = (int) rcx & countMask;
                    } else {
                        int imm = i + 2 + modrmLength(code, i + 2, addressBits);
                        count = imm < code.length ? code[imm] & countMask : 2;
                    }
                    if (count == 0) yield 0;
                    if (count > width) yield ARITHMETIC;
                    yield count == 1 ? AF : AF | OF;
                }
                default -> 0;
            };
        }
        if (i + 1 >= code.length && op != 0x27 && op != 0x2F && op != 0x37 && op != 0x3F) return 0;
        int reg = i + 1 < code.length ? (code[i + 1] >> 3) & 7 : 0;
        int byteWidth = 8;
        return switch (op) {
            case 0xF6, 0xF7 -> switch (reg) {
                case 0, 1 -> AF;
                case 4, 5 -> SF | ZF | AF | PF;
                case 6, 7 -> ARITHMETIC;
                default -> 0;
            };
            case 0x69, 0x6B -> SF | ZF | AF | PF;
            case 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x84, 0x85, 0xA8, 0xA9 -> AF;
            case 0x80, 0x81, 0x83 -> reg == 1 || reg == 4 || reg == 6 ? AF : 0;
            case 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> {
                int w = (op & 1) == 0 ? byteWidth : width;
                int count;
                if (op == 0xD0 || op == 0xD1) {
                    count = 1;
                } else if (op == 0xD2 || op == 0xD3) {
                    count = (int) rcx & countMask;
                } else {
                    int imm = i + 1 + modrmLength(code, i + 1, addressBits);
                    count = imm < code.length ? code[imm] & countMask : 2;
                }
                if (reg <= 3) yield count == 1 ? 0 : OF; // rotates
                if (count == 0) yield 0;
                long undefined = AF | (count == 1 ? 0 : OF);
                if (reg != 7 && count >= w) undefined |= CF;
                yield undefined;
            }
            case 0x27, 0x2F -> OF;
            case 0x37, 0x3F -> OF | SF | ZF | PF;
            case 0xD4, 0xD5 -> OF | AF | CF;
            default -> 0;
        };
    }

    /** Bytes of ModRM, SIB and displacement starting at {@code at} (SDM Vol. 2A §2.1.5, Tables 2-1/2-2/2-3). */
    static int modrmLength(byte[] code, int at, int addressBits) {
        if (at >= code.length) return 1;
        int modrm = code[at] & 0xFF;
        int mod = modrm >> 6, rm = modrm & 7;
        if (mod == 3) return 1;
        if (addressBits == 16) {
            if (mod == 0) return rm == 6 ? 3 : 1;
            return mod == 1 ? 2 : 3;
        }
        int n = 1;
        if (rm == 4) {
            n++;
            int base = at + 1 < code.length ? code[at + 1] & 7 : 0;
            if (mod == 0 && base == 5) return n + 4;
        }
        if (mod == 0) return rm == 5 ? n + 4 : n;
        return mod == 1 ? n + 1 : n + 4;
    }
}
