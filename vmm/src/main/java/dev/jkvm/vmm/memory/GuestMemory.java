package dev.jkvm.vmm.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest-physical memory as seen by the host: a set of RAM regions, each backed by a host
 * {@link MemorySegment}. Every accessor is bounds-checked against the regions; an access that
 * falls outside RAM (or straddles two regions) throws {@link GuestMemoryException}.
 *
 * <p>The backing segments are owned by whoever created them (the VM mmaps them; tests may use an
 * arena); this class only indexes them.
 */
public class GuestMemory {
    /** One contiguous RAM region at guest-physical {@code base}. */
    public record Region(long base, MemorySegment segment) {
        public long size() { return segment.byteSize(); }
        public long end() { return base + segment.byteSize(); }
        /**
         * Overflow-safe: the guest chooses {@code gpa} and often {@code length}, so nothing is
         * added that could wrap (the form {@code length <= size - offset}).
         */
        boolean contains(long gpa, long length) {
            return gpa >= base && length >= 0 && length <= size() && gpa - base <= size() - length;
        }
    }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final List<Region> regions = new ArrayList<>();

    public GuestMemory() {}

    /** Adds a RAM region; regions must not overlap. */
    public void addRegion(long base, MemorySegment backing) {
        Region r = new Region(base, backing);
        for (Region o : regions) {
            if (base < o.end() && o.base() < r.end()) {
                throw new IllegalArgumentException("RAM region overlaps an existing one at 0x" + Long.toHexString(o.base()));
            }
        }
        regions.add(r);
        regions.sort((a, b) -> Long.compareUnsigned(a.base(), b.base()));
    }

    public List<Region> regions() { return List.copyOf(regions); }

    /** Total RAM in bytes, holes excluded. */
    public long ramSize() {
        long s = 0;
        for (Region r : regions) s += r.size();
        return s;
    }

    /** True when {@code [gpa, gpa+length)} lies entirely inside one RAM region. */
    public boolean isRam(long gpa, long length) {
        for (Region r : regions) if (r.contains(gpa, length)) return true;
        return false;
    }

    /** A view of {@code length} bytes at {@code gpa}; throws when that range is not RAM. */
    public MemorySegment slice(long gpa, long length) {
        for (Region r : regions) {
            if (r.contains(gpa, length)) return r.segment().asSlice(gpa - r.base(), length);
        }
        throw new GuestMemoryException(gpa, length);
    }

    public byte read8(long gpa) { return slice(gpa, 1).get(ValueLayout.JAVA_BYTE, 0); }
    public short read16(long gpa) { return slice(gpa, 2).get(U16, 0); }
    public int read32(long gpa) { return slice(gpa, 4).get(U32, 0); }
    public long read64(long gpa) { return slice(gpa, 8).get(U64, 0); }

    public void write8(long gpa, int v) { slice(gpa, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) v); }
    public void write16(long gpa, int v) { slice(gpa, 2).set(U16, 0, (short) v); }
    public void write32(long gpa, int v) { slice(gpa, 4).set(U32, 0, v); }
    public void write64(long gpa, long v) { slice(gpa, 8).set(U64, 0, v); }

    public void write(long gpa, byte[] bytes) { write(gpa, bytes, 0, bytes.length); }

    public void write(long gpa, byte[] bytes, int offset, int length) {
        MemorySegment.copy(bytes, offset, slice(gpa, length), ValueLayout.JAVA_BYTE, 0, length);
    }

    public byte[] read(long gpa, int length) {
        return slice(gpa, length).toArray(ValueLayout.JAVA_BYTE);
    }

    public void fill(long gpa, long length, byte value) { slice(gpa, length).fill(value); }

    /** Writes a NUL-terminated ASCII/UTF-8 string and returns the bytes written including the NUL. */
    public int writeCString(long gpa, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        write(gpa, b);
        write8(gpa + b.length, 0);
        return b.length + 1;
    }
}
