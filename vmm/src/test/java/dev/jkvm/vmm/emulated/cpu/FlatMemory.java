package dev.jkvm.vmm.emulated.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Test double: guest-physical memory as one byte array, acquire loads / release stores and CAS
 * through VarHandles on a native segment (aligned), byte by byte otherwise. Every store reports to CodePages.
 */
class FlatMemory extends PhysicalMemory {
    private static final VarHandle I8 = ValueLayout.JAVA_BYTE.varHandle();
    private static final VarHandle I16 = ValueLayout.JAVA_SHORT.varHandle();
    private static final VarHandle I32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle I64 = ValueLayout.JAVA_LONG.varHandle();

    final MemorySegment ram;
    final long size;
    private final CodePages pages;
    private final Object split = new Object();

    FlatMemory(int size) {
        this.ram = Arena.ofAuto().allocate(size, 4096);
        this.size = size;
        this.pages = new CodePages(size);
    }

    private int at(long physical, int size) {
        if (physical < 0 || physical + size > this.size) throw new IllegalArgumentException("physical 0x" + Long.toHexString(physical));
        return (int) physical;
    }

    @Override
    public long read(long physical, int size) {
        int p = at(physical, size);
        if ((p & (size - 1)) == 0) {
            switch (size) {
                case 1: return (byte) I8.getAcquire(ram, (long) p) & 0xFF;
                case 2: return (short) I16.getAcquire(ram, (long) p) & 0xFFFF;
                case 4: return (int) I32.getAcquire(ram, (long) p) & 0xFFFF_FFFFL;
                default: return (long) I64.getAcquire(ram, (long) p);
            }
        }
        long v = 0;
        VarHandle.acquireFence();
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (ram.get(ValueLayout.JAVA_BYTE, p + i) & 0xFF);
        return v;
    }

    @Override
    public void write(long physical, int size, long value) {
        int p = at(physical, size);
        if ((p & (size - 1)) == 0) {
            switch (size) {
                case 1 -> I8.setRelease(ram, (long) p, (byte) value);
                case 2 -> I16.setRelease(ram, (long) p, (short) value);
                case 4 -> I32.setRelease(ram, (long) p, (int) value);
                default -> I64.setRelease(ram, (long) p, value);
            }
        } else {
            VarHandle.releaseFence();
            for (int i = 0; i < size; i++) ram.set(ValueLayout.JAVA_BYTE, p + i, (byte) (value >>> (8 * i)));
        }
        pages.written(physical);
        pages.written(physical + size - 1);
    }

    @Override
    public long compareAndExchange(long physical, int size, long expected, long update) {
        int p = at(physical, size);
        long r = switch (size) {
            case 1 -> (byte) I8.compareAndExchange(ram, (long) p, (byte) expected, (byte) update) & 0xFFL;
            case 2 -> (short) I16.compareAndExchange(ram, (long) p, (short) expected, (short) update) & 0xFFFFL;
            case 4 -> (int) I32.compareAndExchange(ram, (long) p, (int) expected, (int) update) & 0xFFFF_FFFFL;
            default -> (long) I64.compareAndExchange(ram, (long) p, expected, update);
        };
        pages.written(physical);
        return r;
    }

    @Override
    public long exchange(long physical, int size, long value) {
        for (;;) {
            long old = read(physical, size);
            if (compareAndExchange(physical, size, old, value) == old) return old;
        }
    }

    @Override
    public long getAndAdd(long physical, int size, long delta) {
        int p = at(physical, size);
        long r = switch (size) {
            case 4 -> (int) I32.getAndAdd(ram, (long) p, (int) delta) & 0xFFFF_FFFFL;
            case 8 -> (long) I64.getAndAdd(ram, (long) p, delta);
            default -> {
                long m = size == 1 ? 0xFF : 0xFFFF;
                for (;;) {
                    long old = read(physical, size);
                    if (compareAndExchange(physical, size, old, (old + delta) & m) == old) yield old;
                }
            }
        };
        pages.written(physical);
        return r;
    }

    @Override
    public Object lockedSplit() {
        return split;
    }

    @Override
    public CodePages codePages() {
        return pages;
    }
}
