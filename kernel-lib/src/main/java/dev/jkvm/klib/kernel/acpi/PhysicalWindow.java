package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Memory;

/**
 * The physical memory ACPI discovery may read: physical addresses [0, size), visible at
 * base + physical address. In the kernel, with physical memory identity-mapped, base is 0;
 * a host test passes the address of a native buffer that plays the part of physical memory.
 * Every pointer taken from firmware tables is checked against the window before it is read,
 * so a corrupt pointer is reported instead of faulting.
 */
public final class PhysicalWindow {
    private PhysicalWindow() {
    }

    private static long base;
    private static long size;

    /** Physical address 0 is visible at virtual address {@code base}; {@code size} bytes are mapped. */
    public static void map(long base, long size) {
        PhysicalWindow.base = base;
        PhysicalWindow.size = size;
    }

    public static long size() {
        return size;
    }

    /** Whether [physical, physical + length) lies inside the window (overflow-safe). */
    public static boolean contains(long physical, long length) {
        return physical >= 0 && length >= 0 && physical <= size && length <= size - physical;
    }

    public static int u8(long physical) {
        return Memory.load8(base + physical) & 0xFF;
    }

    public static int u16(long physical) {
        return Memory.load16(base + physical) & 0xFFFF;
    }

    /** The 32-bit field as an int (compare and store it as unsigned where that matters). */
    public static int u32(long physical) {
        return Memory.load32(base + physical);
    }

    public static long u32Unsigned(long physical) {
        return Memory.load32(base + physical) & 0xFFFFFFFFL;
    }

    public static long u64(long physical) {
        return Memory.load64(base + physical);
    }

    /** ACPI 6.5 §5.2.5.3, §5.2.6: a structure is valid when its bytes sum to 0 modulo 256. */
    public static boolean checksumIsZero(long physical, long length) {
        int sum = 0;
        for (long i = 0; i < length; i++) {
            sum += u8(physical + i);
        }
        return (sum & 0xFF) == 0;
    }
}
