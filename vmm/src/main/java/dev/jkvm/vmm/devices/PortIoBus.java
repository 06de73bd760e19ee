package dev.jkvm.vmm.devices;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dispatches port I/O exits to the device registered for the port. Unknown ports read as all
 * ones and swallow writes, as on a PC with nothing decoding the address; both are counted so the
 * VMM can report them. Registration happens before the vCPUs start; dispatch is then read-only.
 */
public final class PortIoBus {
    private record Range(int base, int length, PioDevice device) {}

    private final TreeMap<Integer, Range> ranges = new TreeMap<>();
    private final LongAdder unknownReads = new LongAdder();
    private final LongAdder unknownWrites = new LongAdder();

    public void register(int base, int length, PioDevice device) {
        if (base < 0 || length <= 0 || base + length > 0x10000) {
            throw new IllegalArgumentException("port range 0x" + Integer.toHexString(base) + "+" + length + " is outside 0..0xFFFF");
        }
        Map.Entry<Integer, Range> below = ranges.floorEntry(base + length - 1);
        if (below != null && below.getValue().base() + below.getValue().length() > base) {
            throw new IllegalArgumentException("port range 0x" + Integer.toHexString(base) + " overlaps 0x" + Integer.toHexString(below.getKey()));
        }
        ranges.put(base, new Range(base, length, device));
    }

    private PioDevice find(int port) {
        Map.Entry<Integer, Range> e = ranges.floorEntry(port);
        if (e == null) return null;
        Range r = e.getValue();
        return port < r.base() + r.length() ? r.device() : null;
    }

    /** Whether a device is registered for {@code port} (an accelerator keeps its own devices' ports this way). */
    public boolean decodes(int port) {
        return find(port) != null;
    }

    public int read(int port, int size) {
        PioDevice d = find(port);
        if (d == null) {
            unknownReads.increment();
            return size == 4 ? 0xFFFF_FFFF : (1 << (size * 8)) - 1;
        }
        return d.read(port, size);
    }

    public void write(int port, int size, int value) {
        PioDevice d = find(port);
        if (d == null) {
            unknownWrites.increment();
            return;
        }
        d.write(port, size, value);
    }

    public long unknownReads() { return unknownReads.sum(); }
    public long unknownWrites() { return unknownWrites.sum(); }
}
