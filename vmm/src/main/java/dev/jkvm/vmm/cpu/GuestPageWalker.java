package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.memory.GuestMemory;

/**
 * Translates guest linear addresses to guest-physical ones by walking the guest's own page
 * tables in RAM, for crash reports (reading code at RIP, following frame pointers). Covers the
 * four paging modes of Intel SDM Vol. 3 §4.1.1: none, 32-bit, PAE and 4/5-level.
 */
public final class GuestPageWalker {
    /** Returned when the address is not mapped or a table is not in RAM. */
    public static final long UNMAPPED = -1;

    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PSE = 1L << 4;
    private static final long CR4_PAE = 1L << 5;
    private static final long CR4_LA57 = 1L << 12;
    private static final long EFER_LMA = 1L << 10;
    private static final long PRESENT = 1;
    private static final long PAGE_SIZE_BIT = 1L << 7;
    /** Bits 51:12 of a 64-bit entry (SDM Vol. 3 Table 4-15 and following). */
    private static final long ADDR_MASK_64 = 0x000F_FFFF_FFFF_F000L;

    private final GuestMemory memory;
    private final long cr0;
    private final long cr3;
    private final long cr4;
    private final long efer;

    public GuestPageWalker(GuestMemory memory, long cr0, long cr3, long cr4, long efer) {
        this.memory = memory;
        this.cr0 = cr0;
        this.cr3 = cr3;
        this.cr4 = cr4;
        this.efer = efer;
    }

    public boolean pagingEnabled() { return (cr0 & CR0_PG) != 0; }

    public String mode() {
        if (!pagingEnabled()) return "paging off";
        if ((efer & EFER_LMA) != 0) return (cr4 & CR4_LA57) != 0 ? "5-level paging" : "4-level paging";
        return (cr4 & CR4_PAE) != 0 ? "PAE paging" : "32-bit paging";
    }

    /** The guest-physical address of {@code linear}, or {@link #UNMAPPED}. */
    public long translate(long linear) {
        if (!pagingEnabled()) return linear & 0xFFFF_FFFFL;
        if ((efer & EFER_LMA) != 0) return walk64(linear, (cr4 & CR4_LA57) != 0 ? 5 : 4);
        if ((cr4 & CR4_PAE) != 0) return walkPae(linear & 0xFFFF_FFFFL);
        return walk32(linear & 0xFFFF_FFFFL);
    }

    private long entry64(long gpa) {
        return memory.isRam(gpa, 8) ? memory.read64(gpa) : 0;
    }

    private long walk64(long linear, int levels) {
        long table = cr3 & ADDR_MASK_64;
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long e = entry64(table + ((linear >>> shift) & 0x1FF) * 8);
            if ((e & PRESENT) == 0) return UNMAPPED;
            if (level <= 3 && level >= 2 && (e & PAGE_SIZE_BIT) != 0) {
                long pageMask = (1L << shift) - 1;
                return (e & ADDR_MASK_64 & ~pageMask) | (linear & pageMask);
            }
            table = e & ADDR_MASK_64;
        }
        return table | (linear & 0xFFF);
    }

    private long walkPae(long linear) {
        long pdpte = entry64((cr3 & 0xFFFF_FFE0L) + ((linear >>> 30) & 3) * 8);
        if ((pdpte & PRESENT) == 0) return UNMAPPED;
        long pde = entry64((pdpte & ADDR_MASK_64) + ((linear >>> 21) & 0x1FF) * 8);
        if ((pde & PRESENT) == 0) return UNMAPPED;
        if ((pde & PAGE_SIZE_BIT) != 0) return (pde & ADDR_MASK_64 & ~0x1F_FFFFL) | (linear & 0x1F_FFFFL);
        long pte = entry64((pde & ADDR_MASK_64) + ((linear >>> 12) & 0x1FF) * 8);
        if ((pte & PRESENT) == 0) return UNMAPPED;
        return (pte & ADDR_MASK_64) | (linear & 0xFFF);
    }

    private long walk32(long linear) {
        long pdeAddr = (cr3 & 0xFFFF_F000L) + ((linear >>> 22) & 0x3FF) * 4;
        if (!memory.isRam(pdeAddr, 4)) return UNMAPPED;
        long pde = Integer.toUnsignedLong(memory.read32(pdeAddr));
        if ((pde & PRESENT) == 0) return UNMAPPED;
        if ((pde & PAGE_SIZE_BIT) != 0 && (cr4 & CR4_PSE) != 0) {
            // 4 MiB page: bits 20:13 hold physical address bits 39:32 (SDM Vol. 3 Table 4-4).
            long high = ((pde >>> 13) & 0xFF) << 32;
            return high | (pde & 0xFFC0_0000L) | (linear & 0x3F_FFFFL);
        }
        long pteAddr = (pde & 0xFFFF_F000L) + ((linear >>> 12) & 0x3FF) * 4;
        if (!memory.isRam(pteAddr, 4)) return UNMAPPED;
        long pte = Integer.toUnsignedLong(memory.read32(pteAddr));
        if ((pte & PRESENT) == 0) return UNMAPPED;
        return (pte & 0xFFFF_F000L) | (linear & 0xFFF);
    }

    /**
     * Reads up to {@code length} bytes at a linear address, page by page; stops early at the
     * first byte that is unmapped or not RAM.
     */
    public byte[] readLinear(long linear, int length) {
        byte[] out = new byte[length];
        int n = 0;
        while (n < length) {
            long gpa = translate(linear + n);
            if (gpa == UNMAPPED) break;
            int inPage = (int) Math.min(length - n, 4096 - ((linear + n) & 0xFFF));
            if (!memory.isRam(gpa, inPage)) break;
            System.arraycopy(memory.read(gpa, inPage), 0, out, n, inPage);
            n += inPage;
        }
        return n == length ? out : java.util.Arrays.copyOf(out, n);
    }
}
