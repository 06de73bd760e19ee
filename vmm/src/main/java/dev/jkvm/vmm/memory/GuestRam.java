package dev.jkvm.vmm.memory;

import dev.jkvm.vmm.kvm.KvmVm;
import dev.jkvm.vmm.kvm.Libc;
import dev.jkvm.vmm.kvm.LibcAbi;

import java.lang.foreign.MemorySegment;

/**
 * Guest RAM: one anonymous host mapping, registered with KVM as one slot below the PCI/LAPIC hole
 * and, when the guest has more than {@link GuestLayout#MMIO_HOLE_START} bytes, a second slot
 * above 4 GiB holding the rest (the PC layout ACPI's E820/multiboot map describes).
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

    /** Maps {@code bytes} of RAM (rounded up to whole pages). */
    public static GuestRam allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("guest RAM size must be positive");
        long size = (bytes + PAGE - 1) & -PAGE;
        MemorySegment m = Libc.mmap(size, LibcAbi.PROT_READ | LibcAbi.PROT_WRITE,
                LibcAbi.MAP_PRIVATE | LibcAbi.MAP_ANONYMOUS | LibcAbi.MAP_NORESERVE, -1, 0, "guest RAM");
        return new GuestRam(m);
    }

    /** Registers every RAM region with KVM, one memory slot each. */
    public void register(KvmVm vm) {
        int slot = 0;
        for (GuestMemory.Region r : memory.regions()) vm.setUserMemoryRegion(slot++, r.base(), r.segment());
    }

    public GuestMemory memory() { return memory; }

    public long size() { return mapping.byteSize(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.munmap(mapping, "guest RAM");
    }
}
