package dev.jkvm.klib.rt;

import java.lang.invoke.VarHandle;

/**
 * Memory ordering fences. x86 is TSO (Intel SDM Vol. 3A 9.2.2): loads are not reordered with
 * loads, stores not with stores, so acquire and release need no instruction, only that the
 * compiler keeps program order (it never reorders memory accesses). Only store-to-load ordering
 * needs MFENCE.
 */
public final class Fence {
    private Fence() {
    }

    /** Full fence: compiles to MFENCE. */
    public static void full() {
        VarHandle.fullFence();
    }

    /** Later loads and stores stay after earlier loads: compiles to nothing on x86. */
    public static void acquire() {
        VarHandle.acquireFence();
    }

    /** Earlier loads and stores stay before later stores: compiles to nothing on x86. */
    public static void release() {
        VarHandle.releaseFence();
    }
}
