package dev.jkvm.vmm.devices;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dispatches MMIO exits by guest-physical address. Unknown addresses read as all ones and ignore
 * writes; both are counted. Registration happens before the vCPUs start.
 */
public final class MmioBus {
    private record Range(long base, long length, MmioDevice device) {}

    private final TreeMap<Long, Range> ranges = new TreeMap<>(Long::compareUnsigned);
    private final LongAdder unknownReads = new LongAdder();
    private final LongAdder unknownWrites = new LongAdder();

    public void register(long base, long length, MmioDevice device) {
        if (length <= 0) throw new IllegalArgumentException("MMIO range length must be positive");
        Map.Entry<Long, Range> below = ranges.floorEntry(base + length - 1);
        if (below != null && Long.compareUnsigned(below.getValue().base() + below.getValue().length(), base) > 0) {
            throw new IllegalArgumentException("MMIO range 0x" + Long.toHexString(base) + " overlaps 0x" + Long.toHexString(below.getKey()));
        }
        ranges.put(base, new Range(base, length, device));
    }

    private MmioDevice find(long address) {
        Map.Entry<Long, Range> e = ranges.floorEntry(address);
        if (e == null) return null;
        Range r = e.getValue();
        return Long.compareUnsigned(address - r.base(), r.length()) < 0 ? r.device() : null;
    }

    public long read(long address, int size) {
        MmioDevice d = find(address);
        if (d == null) {
            unknownReads.increment();
            return size == 8 ? -1L : (1L << (size * 8)) - 1;
        }
        return d.read(address, size);
    }

    public void write(long address, int size, long value) {
        MmioDevice d = find(address);
        if (d == null) {
            unknownWrites.increment();
            return;
        }
        d.write(address, size, value);
    }

    public long unknownReads() { return unknownReads.sum(); }
    public long unknownWrites() { return unknownWrites.sum(); }
}
