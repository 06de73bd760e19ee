package dev.jkvm.vmm.emulated.cpu;

/**
 * One vCPU's direct-mapped cache from a block's linear start address to its decoded block, so
 * that entering a block that ran recently costs a few compares instead of an instruction-fetch
 * translation, a RAM-region search and a hash-chain walk in {@link DecodedCache} (QEMU's
 * {@code tb_jmp_cache}, indexed by virtual PC).
 *
 * <p>An entry holds for the code size and CPL it was made in and for the {@link Mmu#epoch} in
 * which the linear-to-physical translation was found: every TLB flush and INVLPG on this vCPU
 * bumps the epoch, so the cache never outlives a translation the TLB itself would have dropped
 * (SDM Vol. 3 §4.10.4; another vCPU's INVLPG does not touch it, as it does not touch this TLB).
 * The block's page version is still checked on every hit, so a store to the code by any vCPU
 * is seen at the next block entry (§8.1.3).
 */
final class JumpCache {
    private static final int BITS = 12, SIZE = 1 << BITS;

    private final long[] linear = new long[SIZE];
    private final long[] epoch = new long[SIZE];
    private final int[] context = new int[SIZE];
    private final DecodedBlock[] block = new DecodedBlock[SIZE];

    private static int index(long linear) {
        return (int) (linear ^ (linear >>> BITS)) & (SIZE - 1);
    }

    /** Code size and CPL as one key part. */
    static int context(int mode, int cpl) {
        return mode | cpl << 4;
    }

    /** The block recorded for {@code linear} in {@code context} and {@code epoch}, or null; its page version is the caller's to check. */
    DecodedBlock get(long linear, int context, long epoch) {
        int i = index(linear);
        DecodedBlock b = block[i];
        if (b != null && this.linear[i] == linear && this.context[i] == context && this.epoch[i] == epoch) return b;
        return null;
    }

    void put(long linear, int context, long epoch, DecodedBlock b) {
        int i = index(linear);
        this.linear[i] = linear;
        this.context[i] = context;
        this.epoch[i] = epoch;
        block[i] = b;
    }
}
