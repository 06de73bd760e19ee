package dev.jkvm.vmm.emulated.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Which 4 KiB pages of guest RAM hold decoded code, shared by every vCPU of a machine, so that a
 * store to such a page — by any vCPU or by the VMM — invalidates what was decoded from it (the AP
 * trampoline is written at run time; SDM Vol. 3 §8.1.3 on cross-modifying code).
 *
 * <p>Each page has a version. A decoder that caches a page's instructions records the page's
 * version and marks the page as code; a store to a marked page bumps the version (and unmarks
 * it), and a cached decoding whose recorded version differs is stale. The store path costs one
 * array load when the page holds no code.
 */
public final class CodePages {
    private static final int PAGE_SHIFT = 12;

    private static final VarHandle INVALIDATIONS;
    static {
        try {
            INVALIDATIONS = MethodHandles.lookup().findVarHandle(CodePages.class, "invalidations", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The machine's translated code, keyed by page version like the decoded blocks (used by {@link BlockTranslator}). */
    final SharedTranslations translations = new SharedTranslations();

    private final AtomicIntegerArray version;
    private final byte[] hasCode;
    /**
     * How many times any page's version was bumped (atomically incremented, read plainly): an
     * executor compares it after its own stores instead of reading its block's page version (a
     * volatile array element) after each of them. Another vCPU's bump may be seen late; that case
     * is caught by the version check at the next block lookup.
     */
    int invalidations;

    /** @param physicalLimit one past the highest guest-physical RAM address */
    public CodePages(long physicalLimit) {
        int pages = (int) ((physicalLimit + (1L << PAGE_SHIFT) - 1) >>> PAGE_SHIFT);
        this.version = new AtomicIntegerArray(pages);
        this.hasCode = new byte[pages];
    }

    /** Called by the decoder before it caches code from {@code physical}'s page; returns the version to record. */
    public int markCode(long physical) {
        int page = (int) (physical >>> PAGE_SHIFT);
        hasCode[page] = 1;
        return version.get(page);
    }

    /** The page's current version, to compare with the one recorded when decoding. */
    public int version(long physical) {
        return version.get((int) (physical >>> PAGE_SHIFT));
    }

    /** Called on every store to RAM at {@code physical} (every byte range's first and last page). */
    public void written(long physical) {
        int page = (int) (physical >>> PAGE_SHIFT);
        if (page < hasCode.length && hasCode[page] != 0) {
            hasCode[page] = 0;
            version.incrementAndGet(page);
            INVALIDATIONS.getAndAdd(this, 1);
        }
    }
}
