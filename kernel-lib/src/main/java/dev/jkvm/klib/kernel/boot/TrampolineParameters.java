package dev.jkvm.klib.kernel.boot;

/**
 * Where the AP trampoline lives and the parameter block the BSP fills in before each
 * INIT-SIPI-SIPI (one AP at a time). The trampoline reads CR3, CR4, EFER bits, the stack, the CPU
 * index and the 64-bit entry from here and writes its progress to STAGE, which the BSP polls.
 */
public final class TrampolineParameters {
    private TrampolineParameters() {
    }

    /**
     * Physical address of the trampoline: page aligned below 1 MiB because the SIPI vector names
     * the 4 KiB page an AP starts at in real mode (Intel SDM Vol. 3A 9.4.4.1, CS = vector << 8).
     */
    public static final long ADDRESS = 0x8000;
    public static final int SIPI_VECTOR = (int) (ADDRESS >>> 12);
    /** The block sits at the end of the trampoline's page. */
    public static final int BLOCK = 0xF00;
    public static final int CR3 = BLOCK;
    public static final int CR4 = BLOCK + 8;
    public static final int EFER = BLOCK + 16;
    public static final int STACK_TOP = BLOCK + 24;
    public static final int ENTRY = BLOCK + 32;
    public static final int CPU_INDEX = BLOCK + 40;
    public static final int STAGE = BLOCK + 44;
    public static final int BLOCK_END = BLOCK + 48;
}
