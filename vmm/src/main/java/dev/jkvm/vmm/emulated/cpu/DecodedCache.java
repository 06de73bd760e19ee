package dev.jkvm.vmm.emulated.cpu;

/**
 * One vCPU's decoded blocks, keyed by guest-physical address and code size, validated against
 * the machine-wide {@link CodePages} versions on every lookup: a store to a page (by any vCPU or
 * by the VMM) makes the blocks decoded from it stale, and they are decoded again (SDM Vol. 3
 * §8.1.3, self- and cross-modifying code).
 *
 * <p>A chained hash table; a hit allocates nothing. The table is cleared when it holds too many
 * blocks (a guest generating code without end).
 */
public final class DecodedCache {
    /** Longest block, in instructions. */
    static final int MAX_BLOCK = 64;
    // Per vCPU (hundreds of vCPUs are a tested configuration): 16 KiB of buckets, and at most
    // 32768 blocks (a few MiB of decoded instructions) before the cache starts over.
    private static final int BUCKETS = 1 << 12;
    private static final int MAX_BLOCKS = 1 << 15;

    private final DecodedBlock[] table = new DecodedBlock[BUCKETS];
    private int blocks;
    private final Insn[] scratch = new Insn[MAX_BLOCK];
    private final Decoder decoder;

    /** Translated blocks in the table (bounded by {@link BlockTranslator#MAX_TRANSLATED}). */
    int translatedBlocks;

    /** Blocks decoded since creation (cache misses, stale or new). */
    public long decodedBlocks;

    public DecodedCache(Decoder decoder) {
        this.decoder = decoder;
    }

    private static int bucket(long physical) {
        long h = physical * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h >>> 52);
    }

    /** The valid block at {@code physical} for {@code mode}, or null. */
    public DecodedBlock lookup(long physical, int mode, CodePages pages) {
        int b = bucket(physical);
        DecodedBlock prev = null;
        for (DecodedBlock d = table[b]; d != null; prev = d, d = d.next) {
            if (d.physical == physical && d.mode == mode) {
                if (d.version == pages.version(physical)) return d;
                // Stale: unlink it.
                if (prev == null) table[b] = d.next; else prev.next = d.next;
                dropped(d);
                return null;
            }
        }
        return null;
    }

    /**
     * Decodes a block at {@code linear}/{@code physical} and caches it. Returns null when the first
     * instruction crosses the page end (such an instruction is not cached: its second page has its
     * own translation and version; the executor decodes it each time).
     */
    public DecodedBlock build(Decoder.CodeSource source, long linear, long physical, int mode, CodePages pages) {
        // Mark the page before reading its bytes: a store racing with the decode bumps the version after it.
        int version = pages.markCode(physical);
        int n = 0;
        int offset = (int) (physical & 0xFFF);
        long lin = linear;
        while (n < MAX_BLOCK) {
            Insn in = new Insn();
            try {
                decoder.decode(source, lin, mode, in);
            } catch (CpuException e) {
                if (n == 0) throw e;
                break; // the fault belongs to that instruction: raised when it is reached as a block start
            }
            if (offset + in.length > 4096) {
                if (n == 0) return null;
                break;
            }
            scratch[n++] = in;
            offset += in.length;
            lin += in.length;
            if ((in.attrs & Insn.A_ENDS_BLOCK) != 0 || offset == 4096) break;
        }
        Insn[] insns = new Insn[n];
        System.arraycopy(scratch, 0, insns, 0, n);
        java.util.Arrays.fill(scratch, 0, n, null);
        DecodedBlock block = new DecodedBlock(physical, mode, version, insns);
        if (blocks >= MAX_BLOCKS) clear();
        int b = bucket(physical);
        // Replace an older block with the same key, if any.
        DecodedBlock prev = null;
        for (DecodedBlock d = table[b]; d != null; prev = d, d = d.next) {
            if (d.physical == physical && d.mode == mode) {
                if (prev == null) table[b] = d.next; else prev.next = d.next;
                dropped(d);
                break;
            }
        }
        block.next = table[b];
        table[b] = block;
        blocks++;
        decodedBlocks++;
        return block;
    }

    private void dropped(DecodedBlock d) {
        blocks--;
        if (d.translated != null && d.translated != TranslatedBlock.INTERPRET) translatedBlocks--;
    }

    public void clear() {
        java.util.Arrays.fill(table, null);
        blocks = 0;
        translatedBlocks = 0;
    }

    public int size() {
        return blocks;
    }
}
