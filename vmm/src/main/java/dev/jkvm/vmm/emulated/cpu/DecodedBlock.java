package dev.jkvm.vmm.emulated.cpu;

/**
 * A straight run of decoded instructions starting at one guest-physical address, within one 4 KiB
 * page, ending at a branch, a system instruction, the page end or a length cap. Explicit object
 * (array of instructions, physical start, code-page version, execution counter) so that a later
 * translator can pick hot blocks and turn them into JVM bytecode.
 */
public final class DecodedBlock {
    /** Guest-physical address of the first instruction: the cache key. */
    public final long physical;
    /** Code size the block was decoded in (2, 4, 8): the same bytes mean different code in another mode. */
    public final int mode;
    /** {@link CodePages} version of the page when it was decoded; a different current version means stale. */
    public final int version;
    public final Insn[] insns;
    /** How many times the block was entered (for choosing hot blocks). */
    public long executions;
    /** Its translation to JVM bytecode once hot, {@link TranslatedBlock#INTERPRET} when refused, null before. */
    TranslatedBlock translated;
    /** Next block in the same hash bucket. */
    DecodedBlock next;

    DecodedBlock(long physical, int mode, int version, Insn[] insns) {
        this.physical = physical;
        this.mode = mode;
        this.version = version;
        this.insns = insns;
    }

    /** Bytes covered by the block. */
    public int byteLength() {
        int n = 0;
        for (Insn i : insns) n += i.length;
        return n;
    }
}
