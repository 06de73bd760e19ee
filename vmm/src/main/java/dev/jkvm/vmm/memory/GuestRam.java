package dev.jkvm.vmm.memory;

import java.lang.foreign.MemorySegment;

/**
 * Guest RAM: one anonymous host mapping, seen by the guest as one region below the PCI/LAPIC hole
 * and, when the guest has more than {@link GuestLayout#MMIO_HOLE_START} bytes, a second region
 * above 4 GiB holding the rest (the PC layout ACPI's E820/multiboot map describes). The
 * accelerator maps each region ({@code MachineBackend.mapMemory}).
 *
 * <p>MAP_NORESERVE and lazy population: a guest that touches little costs little host memory.
 */
public final class GuestRam implements AutoCloseable {
    private static final long PAGE = 4096;

    private final MemorySegment mapping;
    private final GuestMemory memory = new GuestMemory();
    private boolean closed;

    private GuestRam(MemorySegment mapping) {
        this.mapping = mapping;
        long size = mapping.byteSize();
        long low = Math.min(size, GuestLayout.MMIO_HOLE_START);
        memory.addRegion(0, mapping.asSlice(0, low));
        if (size > low) memory.addRegion(GuestLayout.MMIO_HOLE_END, mapping.asSlice(low, size - low));
    }

    /**
     * Links the native calls that {@link #allocate} and {@link #close} make (mmap, munmap), which
     * the first call would otherwise do: some milliseconds of method-handle generation that a
     * launcher can spend on a spare core while it reads the kernel. Idempotent.
     */
    public static void linkNativeCalls() {
        AnonymousMapping.link();
    }

    /** Maps {@code bytes} of RAM (rounded up to whole pages). */
    public static GuestRam allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("guest RAM size must be positive");
        long size = (bytes + PAGE - 1) & -PAGE;
        return new GuestRam(AnonymousMapping.map(size, "guest RAM"));
    }

    public GuestMemory memory() { return memory; }

    public long size() { return mapping.byteSize(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        AnonymousMapping.unmap(mapping, "guest RAM");
    }
}
