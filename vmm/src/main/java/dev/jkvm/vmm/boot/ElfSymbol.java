package dev.jkvm.vmm.boot;

/**
 * A named address from an ELF symbol table (System V ABI, "Symbol Table").
 *
 * @param size   bytes the symbol covers, 0 when the assembler did not say (plain labels)
 * @param type   STT_NOTYPE, STT_OBJECT or STT_FUNC
 * @param global true for STB_GLOBAL and STB_WEAK, false for STB_LOCAL
 */
public record ElfSymbol(String name, long address, long size, int type, boolean global) {
    public static final int STT_NOTYPE = 0;
    public static final int STT_OBJECT = 1;
    public static final int STT_FUNC = 2;
}
