package dev.jkvm.klib.fuzz;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The host memory kernel code run by {@link CheckedKernel} may touch: the buffers the fuzz test
 * allocated. Every rt.Memory load and store is checked here first, so a parser bug that computes
 * a wrong address is a test failure, not a read of arbitrary host memory or a JVM crash.
 */
public final class Bounds {
    private Bounds() {}

    private static final List<MemorySegment> ALLOWED = new CopyOnWriteArrayList<>();

    /** Allows {@code segment} here and in every {@link CheckedKernel}'s checked host address space. */
    public static void allow(MemorySegment segment) {
        ALLOWED.add(segment);
        CheckedKernel.grantEverywhere(segment);
    }

    static List<MemorySegment> allowed() {
        return List.copyOf(ALLOWED);
    }

    /** Called (by rewritten bytecode) before every access of {@code width} bytes at {@code address}. */
    public static void check(long address, int width) {
        for (MemorySegment s : ALLOWED) {
            long offset = address - s.address();
            if (address >= s.address() && offset <= s.byteSize() - width) return;
        }
        throw new AssertionError("kernel code accessed " + width + " bytes at host address 0x" + Long.toHexString(address)
                + ", outside every buffer the test allocated");
    }
}
