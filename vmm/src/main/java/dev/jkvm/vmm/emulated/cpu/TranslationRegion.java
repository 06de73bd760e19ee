package dev.jkvm.vmm.emulated.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoded blocks one translation covers: the hot entry block and, reachable from it by direct
 * branches (Jcc/JMP with a 64-bit operand size) or by falling through a block cut at the length
 * cap, the blocks already decoded in the same 4 KiB code page with the same page version. One
 * page version then validates them all, and the generated method goes from one to the next with
 * a goto (after the checks the run loop makes between blocks) instead of a return to the run loop:
 * a guest loop spread over several blocks (a loop body with an if, a DIV between compares) runs
 * as one Java loop.
 */
final class TranslationRegion {
    /** Bounds that keep the generated method well under HotSpot's 8000-bytecode limit for JIT compilation (-XX:+DontCompileHugeMethods). */
    static final int MAX_BLOCKS = 12, MAX_INSNS = 96;

    final List<DecodedBlock> blocks = new ArrayList<>();
    /** Each block's start relative to the entry block's (same page: the same difference in linear addresses). */
    final List<Long> offsets = new ArrayList<>();

    TranslationRegion(DecodedBlock entry) {
        blocks.add(entry);
        offsets.add(0L);
    }

    /** The entry block plus the decoded blocks of its page reachable from it, within the bounds. */
    static TranslationRegion of(DecodedBlock entry, DecodedCache cache, CodePages pages) {
        TranslationRegion region = new TranslationRegion(entry);
        int insns = entry.insns.length;
        for (int i = 0; i < region.blocks.size(); i++) {
            DecodedBlock b = region.blocks.get(i);
            for (long target : successors(b)) {
                if (region.blocks.size() >= MAX_BLOCKS) return region;
                if (target >>> 12 != entry.physical >>> 12 || region.indexOf(target - entry.physical) >= 0) continue;
                DecodedBlock d = cache.lookup(target, entry.mode, pages);
                if (d == null || d.version != entry.version || insns + d.insns.length > MAX_INSNS) continue;
                region.blocks.add(d);
                region.offsets.add(target - entry.physical);
                insns += d.insns.length;
            }
        }
        return region;
    }

    /** Guest-physical addresses control may go to after {@code b} without leaving its page's direct flow. */
    static long[] successors(DecodedBlock b) {
        Insn last = b.insns[b.insns.length - 1];
        long end = b.physical + b.byteLength();
        if (BlockTranslator.directBranch(last)) {
            long taken = end + last.imm;
            return last.handler == Handler.JCC ? new long[] {taken, end} : new long[] {taken};
        }
        if ((last.attrs & Insn.A_ENDS_BLOCK) == 0) return new long[] {end}; // cut at the length cap or the page end
        return new long[0];
    }

    /** Index of the block starting {@code offset} bytes from the entry, or -1. */
    int indexOf(long offset) {
        for (int i = 0; i < offsets.size(); i++) if (offsets.get(i) == offset) return i;
        return -1;
    }

    /** All the region's instructions in block order (the generated class's data). */
    List<Insn> insns() {
        List<Insn> all = new ArrayList<>();
        for (DecodedBlock b : blocks) all.addAll(List.of(b.insns));
        return all;
    }
}
