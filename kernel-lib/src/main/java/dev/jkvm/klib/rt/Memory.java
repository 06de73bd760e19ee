package dev.jkvm.klib.rt;

import java.lang.foreign.ValueLayout;

/**
 * Raw loads and stores at a physical (kernel: identity-mapped) address. Compiled code turns each
 * call into one mov. On the host JVM addresses are host addresses, so a test can hand the same
 * native buffer address to the JVM run and to the compiled run; but only memory the test gave
 * (HostAddressSpace) may be touched, any other address raises HostMemoryFault.
 */
public final class Memory {
    private Memory() {
    }

    // Unaligned layouts because x86 allows unaligned access.

    public static byte load8(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 1, "load8");
        return r.view.get(ValueLayout.JAVA_BYTE, address - r.start);
    }

    public static short load16(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 2, "load16");
        return r.view.get(ValueLayout.JAVA_SHORT_UNALIGNED, address - r.start);
    }

    public static int load32(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "load32");
        return r.view.get(ValueLayout.JAVA_INT_UNALIGNED, address - r.start);
    }

    public static long load64(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "load64");
        return r.view.get(ValueLayout.JAVA_LONG_UNALIGNED, address - r.start);
    }

    public static void store8(long address, byte value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 1, "store8");
        r.view.set(ValueLayout.JAVA_BYTE, address - r.start, value);
    }

    public static void store16(long address, short value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 2, "store16");
        r.view.set(ValueLayout.JAVA_SHORT_UNALIGNED, address - r.start, value);
    }

    public static void store32(long address, int value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "store32");
        r.view.set(ValueLayout.JAVA_INT_UNALIGNED, address - r.start, value);
    }

    public static void store64(long address, long value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "store64");
        r.view.set(ValueLayout.JAVA_LONG_UNALIGNED, address - r.start, value);
    }
}
