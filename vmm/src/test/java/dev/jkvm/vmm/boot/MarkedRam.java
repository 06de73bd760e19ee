package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;

/** Guest memory for tests: RAM regions from a confined arena, pre-filled with a marker byte. */
final class MarkedRam implements AutoCloseable {
    static final long MIB = 1 << 20;
    static final byte GARBAGE = (byte) 0xCC;

    private final Arena arena = Arena.ofConfined();
    final GuestMemory memory = new GuestMemory();

    /** Regions as (base, size) pairs. */
    MarkedRam(long... baseAndSize) {
        for (int i = 0; i < baseAndSize.length; i += 2) {
            memory.addRegion(baseAndSize[i], arena.allocate(baseAndSize[i + 1], 4096).fill(GARBAGE));
        }
    }

    static MarkedRam mib(long size) {
        return new MarkedRam(0, size * MIB);
    }

    @Override
    public void close() {
        arena.close();
    }
}
