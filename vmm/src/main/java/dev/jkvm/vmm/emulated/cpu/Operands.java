package dev.jkvm.vmm.emulated.cpu;

/**
 * ModRM operand access shared by the executor and {@link SystemInstructions}: effective address
 * (SDM Vol. 1 §3.7.5), register operands with the legacy high-byte registers, memory through the
 * vCPU's {@link Mmu}.
 */
public final class Operands {
    private Operands() {}

    static long addressMask(int addrSize) {
        return addrSize == 8 ? -1L : addrSize == 4 ? 0xFFFF_FFFFL : 0xFFFFL;
    }

    /** The effective offset of {@code insn}'s memory operand, masked to its address size (RIP-relative resolved against the next instruction). */
    public static long effectiveOffset(X86Cpu cpu, Insn insn) {
        long ea = insn.disp;
        int base = insn.base;
        if (base >= 0) ea += base == Insn.BASE_RIP ? cpu.s.rip : cpu.s.gpr[base];
        if (insn.index >= 0) ea += cpu.s.gpr[insn.index] << insn.scale;
        int as = insn.addrSize;
        return as == 8 ? ea : as == 4 ? ea & 0xFFFF_FFFFL : ea & 0xFFFFL;
    }

    /** Reads the r/m operand (register when mod == 3, else memory in insn.segment) of {@code size} bytes. */
    public static long readRm(X86Cpu cpu, Insn insn, int size) {
        if (insn.mod == 3) return readReg(cpu, insn, insn.rm, size);
        return cpu.mmu.read(insn.segment, effectiveOffset(cpu, insn), size);
    }

    public static void writeRm(X86Cpu cpu, Insn insn, int size, long value) {
        if (insn.mod == 3) writeReg(cpu, insn, insn.rm, size, value);
        else cpu.mmu.write(insn.segment, effectiveOffset(cpu, insn), size, value);
    }

    /** Reads/writes general register {@code reg} (0..15) at {@code size}; size 1 honours the legacy AH..BH encoding without REX. */
    public static long readReg(X86Cpu cpu, Insn insn, int reg, int size) {
        long v;
        switch (size) {
            case 1:
                if (reg >= 4 && reg < 8 && insn.rex == 0) return (cpu.s.gpr[reg - 4] >>> 8) & 0xFF;
                return cpu.s.gpr[reg] & 0xFF;
            case 2: return cpu.s.gpr[reg] & 0xFFFF;
            case 4: return cpu.s.gpr[reg] & 0xFFFF_FFFFL;
            default: v = cpu.s.gpr[reg]; return v;
        }
    }

    public static void writeReg(X86Cpu cpu, Insn insn, int reg, int size, long value) {
        long[] g = cpu.s.gpr;
        switch (size) {
            case 1:
                if (reg >= 4 && reg < 8 && insn.rex == 0) {
                    g[reg - 4] = (g[reg - 4] & ~0xFF00L) | ((value & 0xFF) << 8);
                } else {
                    g[reg] = (g[reg] & ~0xFFL) | (value & 0xFF);
                }
                break;
            case 2: g[reg] = (g[reg] & ~0xFFFFL) | (value & 0xFFFF); break;
            // A 32-bit destination zero-extends into the whole 64-bit register (SDM Vol. 1 §3.4.1.1).
            case 4: g[reg] = value & 0xFFFF_FFFFL; break;
            default: g[reg] = value;
        }
    }
}
