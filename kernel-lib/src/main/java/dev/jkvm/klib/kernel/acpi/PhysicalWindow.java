package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The physical memory ACPI discovery may read: physical addresses [0, size), visible at
 * base + physical address. In the kernel, with physical memory identity-mapped, base is 0;
 * a host test passes the address of a native buffer that plays the part of physical memory.
 * Every pointer taken from firmware tables is checked against the window before it is read,
 * so a corrupt pointer is reported instead of faulting.
 *
 * In the kernel the window is the whole physical address space instead (mapOnDemand): the boot
 * page tables map only the first GiB, and firmware puts tables wherever it likes (SeaBIOS at the
 * top of low RAM, 2 or 3 GiB up on machines with much RAM), so addresses beyond the identity-mapped
 * part are mapped by DemandMapping before they are read.
 */
public final class PhysicalWindow {
    private PhysicalWindow() {
    }

    private static long base;
    private static long size;
    private static boolean onDemand;
    private static long mappedEnd;
    private static int addressBits;

    /** Physical address 0 is visible at virtual address {@code base}; {@code size} bytes are mapped. */
    public static void map(long base, long size) {
        PhysicalWindow.base = base;
        PhysicalWindow.size = size;
        onDemand = false;
    }

    /**
     * Kernel only: physical memory is identity-mapped below {@code mappedEnd}; the window is the
     * whole {@code bits}-bit physical address space (CPUID 0x80000008 EAX[7:0], at most 47 so an
     * identity mapping stays canonical), and pages beyond mappedEnd are mapped on first use with
     * page-table pages from the pool.
     */
    public static void mapOnDemand(long mappedEnd, int bits, long poolStart, int poolPages) {
        base = 0;
        addressBits = bits > 47 ? 47 : bits;
        size = 1L << addressBits;
        PhysicalWindow.mappedEnd = mappedEnd;
        onDemand = true;
        DemandMapping.usePool(poolStart, poolPages);
    }

    /** Prints why an address the window does not contain cannot be read, after "lies " or "runs ". */
    public static void printOutside() {
        if (onDemand) {
            Console.print("beyond the CPU's physical address space (which ends at ");
            Console.printHex(size);
            Console.print(") or where no page table was left to map it");
        } else {
            Console.print("outside physical memory");
        }
    }

    private static long at(long physical, int bytes) {
        if (onDemand && physical + bytes > mappedEnd) {
            DemandMapping.ensure(physical);
            DemandMapping.ensure(physical + bytes - 1);
        }
        return base + physical;
    }

    public static long size() {
        return size;
    }

    /** Whether [physical, physical + length) lies inside the window (overflow-safe). */
    public static boolean contains(long physical, long length) {
        if (!(physical >= 0 && length >= 0 && physical <= size && length <= size - physical)) {
            return false;
        }
        if (onDemand && physical + length > mappedEnd) {
            return DemandMapping.ensureRange(physical, length);
        }
        return true;
    }

    public static int u8(long physical) {
        return Memory.load8(at(physical, 1)) & 0xFF;
    }

    public static int u16(long physical) {
        return Memory.load16(at(physical, 2)) & 0xFFFF;
    }

    /** The 32-bit field as an int (compare and store it as unsigned where that matters). */
    public static int u32(long physical) {
        return Memory.load32(at(physical, 4));
    }

    public static long u32Unsigned(long physical) {
        return Memory.load32(at(physical, 4)) & 0xFFFFFFFFL;
    }

    public static long u64(long physical) {
        return Memory.load64(at(physical, 8));
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
