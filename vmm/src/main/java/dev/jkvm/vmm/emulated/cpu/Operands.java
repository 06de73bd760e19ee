package dev.jkvm.vmm.emulated.cpu;

/**
 * ModRM operand access shared by the executor and {@link SystemInstructions}. CONTRACT STUB
 * (ISA side owns this file).
 */
public final class Operands {
    private Operands() {}

    /** The effective offset of {@code insn}'s memory operand, masked to its address size (RIP-relative resolved against the next instruction). */
    public static long effectiveOffset(X86Cpu cpu, Insn insn) { throw new UnsupportedOperationException(); }

    /** Reads the r/m operand (register when mod == 3, else memory in insn.segment) of {@code size} bytes. */
    public static long readRm(X86Cpu cpu, Insn insn, int size) { throw new UnsupportedOperationException(); }

    public static void writeRm(X86Cpu cpu, Insn insn, int size, long value) { throw new UnsupportedOperationException(); }

    /** Reads/writes general register {@code reg} (0..15) at {@code size}; size 1 honours the legacy AH..BH encoding without REX. */
    public static long readReg(X86Cpu cpu, Insn insn, int reg, int size) { throw new UnsupportedOperationException(); }

    public static void writeReg(X86Cpu cpu, Insn insn, int reg, int size, long value) { throw new UnsupportedOperationException(); }
}
