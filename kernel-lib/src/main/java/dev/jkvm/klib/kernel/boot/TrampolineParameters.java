package dev.jkvm.klib.kernel.boot;

/**
 * Where the AP trampoline lives and the parameter block the BSP fills in once, before it starts
 * every AP at the same time. The trampoline reads CR3, CR4, EFER bits and the 64-bit entry from
 * here; each AP finds its CPU index by its own APIC ID in the table at APIC_TABLE (index + 1, 0 for
 * an APIC ID the kernel does not know) and its stack in the table at STACK_TABLE, and writes its
 * progress to its own byte of STAGES (by APIC ID), which the BSP polls.
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
    public static final int ENTRY = BLOCK + 24;
    /** Physical address of an int per APIC ID below APIC_LIMIT: the CPU index + 1, or 0. */
    public static final int APIC_TABLE = BLOCK + 32;
    /** Physical address of a long per CPU index: the top of that CPU's boot stack. */
    public static final int STACK_TABLE = BLOCK + 40;
    public static final int APIC_LIMIT = BLOCK + 48;
    public static final int BLOCK_END = BLOCK + 56;
    /**
     * One BootStage byte per APIC ID, written by the AP itself from its first instruction on (real
     * mode addresses it with a 16-bit offset, so the array lies inside the page); APIC IDs of
     * STAGE_SLOTS - 1 and above share the last byte.
     */
    public static final int STAGES = 0x400;
    public static final int STAGE_SLOTS = BLOCK - STAGES;
}
