package dev.jkvm.klib.rt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Raw loads and stores at a physical (kernel: identity-mapped) address. Compiled code turns each
 * call into one mov. On the host JVM the address space is the host process's own address space,
 * so a test can hand the same native buffer address to the JVM run and to the compiled run.
 */
public final class Memory {
    private Memory() {
    }

    /** Every host address; unaligned layouts because x86 allows unaligned access. */
    static final MemorySegment HOST_SPACE = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    public static byte load8(long address) {
        return HOST_SPACE.get(ValueLayout.JAVA_BYTE, address);
    }

    public static short load16(long address) {
        return HOST_SPACE.get(ValueLayout.JAVA_SHORT_UNALIGNED, address);
    }

    public static int load32(long address) {
        return HOST_SPACE.get(ValueLayout.JAVA_INT_UNALIGNED, address);
    }

    public static long load64(long address) {
        return HOST_SPACE.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
    }

    public static void store8(long address, byte value) {
        HOST_SPACE.set(ValueLayout.JAVA_BYTE, address, value);
    }

    public static void store16(long address, short value) {
        HOST_SPACE.set(ValueLayout.JAVA_SHORT_UNALIGNED, address, value);
    }

    public static void store32(long address, int value) {
        HOST_SPACE.set(ValueLayout.JAVA_INT_UNALIGNED, address, value);
    }

    public static void store64(long address, long value) {
        HOST_SPACE.set(ValueLayout.JAVA_LONG_UNALIGNED, address, value);
    }
}
