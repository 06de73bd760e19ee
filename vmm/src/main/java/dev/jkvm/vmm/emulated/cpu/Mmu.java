package dev.jkvm.vmm.emulated.cpu;

/**
 * Segmentation and paging for one vCPU: logical address to linear (segment base, limit in
 * legacy modes, canonical check in 64-bit mode) to physical (4-level paging, software TLB), then
 * to guest RAM or a device. CONTRACT STUB (system side owns this file).
 *
 * <p>Every method may throw the vCPU's {@link CpuException} (#GP, #SS, #PF with CR2 and error code)
 * before any part of the access happened; accesses that cross a page are translated page by
 * page before either part is done. Sizes are 1, 2, 4 or 8 bytes; values are zero-extended.
 */
public class Mmu {
    /** Access kinds for {@link #translate}. */
    public static final int READ = 0, WRITE = 1, EXECUTE = 2;

    /** Reads {@code size} bytes at {@code offset} in segment {@code seg} (CpuState.ES..GS); {@code offset} is already masked to the address size. */
    public long read(int seg, long offset, int size) { throw new UnsupportedOperationException(); }

    public void write(int seg, long offset, int size, long value) { throw new UnsupportedOperationException(); }

    /** Reads and writes at a linear address (descriptor tables, TSS, IDT: supervisor accesses when {@code supervisor}). */
    public long readLinear(long linear, int size, boolean supervisor) { throw new UnsupportedOperationException(); }

    public void writeLinear(long linear, int size, long value, boolean supervisor) { throw new UnsupportedOperationException(); }

    /**
     * The physical address of {@code size} bytes at seg:offset for an access of {@code kind},
     * with every check done and accessed/dirty bits set — for locked read-modify-write
     * instructions, which then operate on {@link #physical()} atomically. Throws #AC-free:
     * when the range crosses a page the caller falls back to {@link PhysicalMemory#lockedSplit}.
     */
    public long translate(int seg, long offset, int size, int kind) { throw new UnsupportedOperationException(); }

    /** The physical address of the code byte at linear {@code linear} (execute permission checked): the decoded-block cache key. */
    public long translateFetch(long linear) { throw new UnsupportedOperationException(); }

    /** One code byte at a linear address (for the decoder; may cross into the next page). */
    public int fetchByte(long linear) { throw new UnsupportedOperationException(); }

    public PhysicalMemory physical() { throw new UnsupportedOperationException(); }

    /** INVLPG; CR3 loads and CR0/CR4 paging-bit changes flush via {@link #flush}. */
    public void invalidate(long linear) { throw new UnsupportedOperationException(); }

    public void flush(boolean includingGlobal) { throw new UnsupportedOperationException(); }
}
