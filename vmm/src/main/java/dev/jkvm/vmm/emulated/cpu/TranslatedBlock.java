package dev.jkvm.vmm.emulated.cpu;

/**
 * A {@link DecodedBlock} translated to JVM bytecode by {@link BlockTranslator}: an instance of the
 * hidden class generated for the region ({@link TranslationRegion}) that covers the block, entering
 * the region's method at this block. {@link #run} executes the instructions with exactly the
 * interpreter's semantics ({@link Executor#runInsns}) and goes on from block to block of the
 * region (looping where the guest loops), so the JIT compiles a guest loop as a Java loop.
 */
abstract class TranslatedBlock {
    /** Marks a block that stays interpreted (translation refused: bounds reached, or not translatable). */
    static final TranslatedBlock INTERPRET = new TranslatedBlock() {
        @Override
        long run(Executor ex, long rip, long max) {
            throw new IllegalStateException("an interpreted block has no translation");
        }
    };

    /**
     * Executes the block from its first instruction at linear {@code rip} (64-bit code), at least
     * once (the caller checked that the whole block fits in {@code max}) and again while control
     * returns to its start, a whole iteration fits in {@code max}, no event is pending and the
     * block's code page is unchanged. Returns the instructions retired; a {@link CpuException}
     * escapes after {@link Executor#translatedFault} recorded the faulting instruction.
     */
    abstract long run(Executor ex, long rip, long max);

    /**
     * Whether a self-looping block may run another iteration: the checks the run loop makes
     * between blocks (a pending event, SDM-visible as an interrupt window) and at each block entry
     * (its page version: code written by any vCPU, SDM Vol. 3 §8.1.3).
     */
    static boolean mayLoop(Executor ex, long physical, int version) {
        CpuEvents e = ex.events;
        if (e != null && e.peek() != 0) return false;
        return ex.pages.version(physical) == version;
    }
}
