package dev.jkvm.klib.arch;

/**
 * The flat GDT descriptors every boot path uses (Intel SDM Vol. 3A 3.4.5 "Segment Descriptors"):
 * base 0, limit 0xFFFFF in 4 KiB units, so each covers the whole address space. Access byte 0x9A
 * = present, DPL 0, code, execute/read; 0x92 = present, DPL 0, data, read/write; 0xFA and 0xF2 the
 * same with DPL 3. Flags nibble 0xA = 4 KiB granularity with L = 1 (64-bit code, D = 0, SDM
 * Vol. 3A 5.2.1); 0xC = 4 KiB granularity with D/B = 1 (32-bit).
 */
public final class SegmentDescriptors {
    private SegmentDescriptors() {
    }

    public static final long KERNEL_CODE64 = 0x00AF9A000000FFFFL;
    public static final long KERNEL_CODE32 = 0x00CF9A000000FFFFL;
    public static final long KERNEL_DATA = 0x00CF92000000FFFFL;
    public static final long USER_CODE64 = 0x00AFFA000000FFFFL;
    public static final long USER_DATA = 0x00CFF2000000FFFFL;
}
