package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;

/**
 * The three TLB invalidations a shootdown chooses between, reached through assembler-routine
 * symbols so that host tests can observe which one ran (the host's Cpu.invlpg does nothing).
 * The kernel binds each symbol to the matching TlbInstructions method (a JMP to its compiled
 * label is enough: both follow the same calling convention).
 */
public final class TlbInvalidate {
    private TlbInvalidate() {
    }

    /** rdi = linear address: TlbInstructions.invalidatePage. */
    public static final String PAGE_SYMBOL = "klib_tlb_invalidate_page";
    /** TlbInstructions.flushAddressSpace. */
    public static final String ADDRESS_SPACE_SYMBOL = "klib_tlb_flush_address_space";
    /** TlbInstructions.flushAll. */
    public static final String ALL_SYMBOL = "klib_tlb_flush_all";

    public static void page(long linearAddress) {
        Asm.call(PAGE_SYMBOL, linearAddress);
    }

    public static void addressSpace() {
        Asm.call(ADDRESS_SPACE_SYMBOL);
    }

    public static void all() {
        Asm.call(ALL_SYMBOL);
    }
}
