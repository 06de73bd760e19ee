package dev.jkvm.vmm.boot;

/**
 * One piece of the kernel as it is copied into guest memory: {@code fileSize} bytes from
 * {@code fileOffset} in the image to guest-physical {@code address}, then zeros up to
 * {@code memorySize} (the bss part).
 *
 * @param name how error messages call it, e.g. "ELF segment 1" or "a.out-kludge image"
 */
record LoadSegment(String name, long fileOffset, long fileSize, long address, long memorySize) {
    long end() { return address + memorySize; }

    String range() {
        return "[0x" + Long.toHexString(address) + ", 0x" + Long.toHexString(end()) + ")";
    }

    boolean overlaps(long start, long endExclusive) {
        return address < endExclusive && start < end();
    }
}
