package dev.jkvm.vmm.boot;

/**
 * One entry of the Multiboot memory map (Multiboot 0.6.96 §3.3, "mmap_*"): in guest memory it is
 * {@code size} (u32, always 20: the bytes after the size field), base_addr (u64), length (u64),
 * type (u32).
 */
public record MemoryMapEntry(long base, long length, int type) {
    /** §3.3: type 1 is available RAM; every other value is reserved. */
    public static final int AVAILABLE = 1;
    public static final int RESERVED = 2;
    /** Size of one entry in guest memory, including its size field. */
    public static final int BYTES = 24;
    /** The value of the size field: base_addr + length + type. */
    public static final int SIZE_FIELD = 20;

    public long end() { return base + length; }
}
