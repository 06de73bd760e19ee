package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.devices.MmioDevice;
import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Guest-physical memory as the emulated CPUs see it: RAM (shared by every vCPU, x86-TSO ordered)
 * and the machine's internal MMIO devices (the I/O APIC). Per-vCPU targets — the LAPIC page and
 * MMIO exits to the VMM — are the {@link Mmu}'s business: this object is shared by all vCPUs.
 *
 * <p>Ordering (SDM Vol. 3 §8.2.2, x86-TSO): every aligned load is a VarHandle {@code getAcquire}
 * and every aligned store a {@code setRelease}, so loads are not reordered with later loads or
 * stores and stores not with earlier ones, and the JIT cannot hoist a guest load out of a spin
 * loop. Unaligned accesses use plain unaligned access bracketed by the matching fence. Locked
 * operations (CAS, exchange, add) have volatile semantics: full barriers, as LOCK-prefixed
 * instructions and XCHG with memory are (SDM Vol. 3 §8.2.2 "Locked instructions have a total
 * order"). Sub-word atomics run as a CAS on their enclosing aligned int or long.
 *
 * <p>Isolation: every RAM access goes through a region's {@link MemorySegment}, which is bounds
 * checked by the JVM; an address outside RAM and outside every device reads as all ones and
 * ignores writes (an open bus), so no guest address can reach host memory.
 *
 * <p>Every RAM store reports its first and last page to {@link CodePages#written}.
 */
public class PhysicalMemory {
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SU = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt IU = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LU = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Coordinates (MemorySegment, long offset): JDK 22+ layout var handles take a base offset.
    private static final VarHandle VB = B.varHandle();
    private static final VarHandle VS = S.varHandle();
    private static final VarHandle VI = I.varHandle();
    private static final VarHandle VL = L.varHandle();

    private final long[] regionBase;
    private final long[] regionEnd;
    private final MemorySegment[] regionSegment;
    private final CodePages codePages;
    private final Object splitLock = new Object();

    private volatile long[] deviceBase = new long[0];
    private volatile long[] deviceEnd = new long[0];
    private volatile MmioDevice[] devices = new MmioDevice[0];

    public PhysicalMemory(GuestMemory memory) {
        var regions = memory.regions();
        regionBase = new long[regions.size()];
        regionEnd = new long[regions.size()];
        regionSegment = new MemorySegment[regions.size()];
        long limit = 0;
        for (int i = 0; i < regions.size(); i++) {
            var r = regions.get(i);
            if (!r.segment().isNative()) {
                throw new IllegalArgumentException("guest RAM region at 0x" + Long.toHexString(r.base())
                        + " is a heap segment; atomic guest accesses need native memory: map it (mmap) or allocate it from an Arena");
            }
            if ((r.segment().address() & 7) != 0) {
                throw new IllegalArgumentException("guest RAM region at 0x" + Long.toHexString(r.base())
                        + " must be 8-byte aligned in host memory for atomic access; map it page aligned");
            }
            if ((r.base() & 0xFFF) != 0) {
                throw new IllegalArgumentException("guest RAM region base 0x" + Long.toHexString(r.base()) + " must be page aligned");
            }
            regionBase[i] = r.base();
            regionEnd[i] = r.end();
            regionSegment[i] = r.segment();
            limit = Math.max(limit, r.end());
        }
        codePages = new CodePages(limit);
    }

    /** Shared code-page versions for decoded-instruction invalidation. */
    public CodePages codePages() { return codePages; }

    /** Registers an internal MMIO device (the I/O APIC) at {@code [base, base+size)}; before vCPUs run. */
    public synchronized void addDevice(long base, long size, MmioDevice device) {
        int n = devices.length;
        long[] b = java.util.Arrays.copyOf(deviceBase, n + 1);
        long[] e = java.util.Arrays.copyOf(deviceEnd, n + 1);
        MmioDevice[] d = java.util.Arrays.copyOf(devices, n + 1);
        b[n] = base;
        e[n] = base + size;
        d[n] = device;
        deviceBase = b;
        deviceEnd = e;
        devices = d;
    }

    /** The internal device at {@code physical}, or null. */
    public MmioDevice device(long physical) {
        long[] b = deviceBase, e = deviceEnd;
        MmioDevice[] d = devices;
        for (int i = 0; i < d.length; i++) if (physical >= b[i] && physical < e[i]) return d[i];
        return null;
    }

    /** The index of the RAM region holding all of {@code [physical, physical+size)}, or -1. */
    public final int region(long physical, int size) {
        long[] base = regionBase, end = regionEnd;
        for (int i = 0; i < base.length; i++) {
            if (physical >= base[i] && physical + size <= end[i] && physical + size > physical) return i;
        }
        return -1;
    }

    /** True when all of {@code [physical, physical+size)} is RAM. */
    public final boolean isRam(long physical, int size) { return region(physical, size) >= 0; }

    /** Reads RAM or an internal device; anything else reads as all ones (open bus). */
    public long read(long physical, int size) {
        int r = region(physical, size);
        if (r >= 0) return readRam(r, physical, size);
        MmioDevice d = device(physical);
        if (d != null) return d.read(physical, size) & mask(size);
        return mask(size);
    }

    /** Writes RAM or an internal device; anything else is ignored. */
    public void write(long physical, int size, long value) {
        int r = region(physical, size);
        if (r >= 0) {
            writeRam(r, physical, size, value);
            return;
        }
        MmioDevice d = device(physical);
        if (d != null) d.write(physical, size, value & mask(size));
    }

    static long mask(int size) { return size == 8 ? -1L : (1L << (size * 8)) - 1; }

    /** Acquire load of {@code size} bytes from RAM region {@code r}; zero-extended. */
    final long readRam(int r, long physical, int size) {
        MemorySegment m = regionSegment[r];
        long off = physical - regionBase[r];
        if ((physical & (size - 1)) == 0) {
            switch (size) {
                case 1: return (byte) VB.getAcquire(m, off) & 0xFFL;
                case 2: return (short) VS.getAcquire(m, off) & 0xFFFFL;
                case 4: return (int) VI.getAcquire(m, off) & 0xFFFF_FFFFL;
                default: return (long) VL.getAcquire(m, off);
            }
        }
        long v;
        switch (size) {
            case 2: v = m.get(SU, off) & 0xFFFFL; break;
            case 4: v = m.get(IU, off) & 0xFFFF_FFFFL; break;
            default: v = m.get(LU, off); break;
        }
        VarHandle.acquireFence();
        return v;
    }

    /** Release store of {@code size} bytes to RAM region {@code r}. */
    final void writeRam(int r, long physical, int size, long value) {
        MemorySegment m = regionSegment[r];
        long off = physical - regionBase[r];
        if ((physical & (size - 1)) == 0) {
            switch (size) {
                case 1 -> VB.setRelease(m, off, (byte) value);
                case 2 -> VS.setRelease(m, off, (short) value);
                case 4 -> VI.setRelease(m, off, (int) value);
                default -> VL.setRelease(m, off, value);
            }
        } else {
            VarHandle.releaseFence();
            switch (size) {
                case 2 -> m.set(SU, off, (short) value);
                case 4 -> m.set(IU, off, (int) value);
                default -> m.set(LU, off, value);
            }
        }
        codePages.written(physical);
        codePages.written(physical + size - 1);
    }

    /** Atomic compare-and-exchange on RAM; returns the old value (== expected on success). Full barrier. */
    public long compareAndExchange(long physical, int size, long expected, long update) {
        int r = region(physical, size);
        if (r < 0) return nonRamRmw(physical, size, expected, update, true);
        MemorySegment m = regionSegment[r];
        long off = physical - regionBase[r];
        long mask = mask(size);
        expected &= mask;
        update &= mask;
        long old;
        if (size == 8 && (physical & 7) == 0) {
            old = (long) VL.compareAndExchange(m, off, expected, update);
        } else if (size == 4 && (physical & 3) == 0) {
            old = (int) VI.compareAndExchange(m, off, (int) expected, (int) update) & 0xFFFF_FFFFL;
        } else if ((physical & 7) + size <= 8) {
            old = casInWord(m, off, physical, size, expected, update);
        } else {
            synchronized (splitLock) {
                VarHandle.fullFence();
                old = readRam(r, physical, size);
                if (old == expected) writeRam(r, physical, size, update);
                VarHandle.fullFence();
            }
            return old;
        }
        if (old == expected) {
            codePages.written(physical);
            codePages.written(physical + size - 1);
        }
        return old;
    }

    /** A sub-word CAS as a CAS on the enclosing aligned long (the access does not cross it). */
    private long casInWord(MemorySegment m, long off, long physical, int size, long expected, long update) {
        int shift = (int) (physical & 7) * 8;
        long mask = mask(size) << shift;
        long wordOff = off - (physical & 7);
        while (true) {
            long word = (long) VL.getVolatile(m, wordOff);
            long cur = (word & mask) >>> shift;
            if (cur != expected) {
                VarHandle.fullFence();
                return cur;
            }
            long next = (word & ~mask) | (update << shift);
            if ((long) VL.compareAndExchange(m, wordOff, word, next) == word) return cur;
        }
    }

    /** Atomic exchange on RAM returning the old value; full barrier. */
    public long exchange(long physical, int size, long value) {
        int r = region(physical, size);
        if (r >= 0) {
            long off = physical - regionBase[r];
            MemorySegment m = regionSegment[r];
            if (size == 8 && (physical & 7) == 0) {
                long old = (long) VL.getAndSet(m, off, value);
                written(physical, size);
                return old;
            }
            if (size == 4 && (physical & 3) == 0) {
                long old = (int) VI.getAndSet(m, off, (int) value) & 0xFFFF_FFFFL;
                written(physical, size);
                return old;
            }
        }
        while (true) {
            long old = read(physical, size);
            if (compareAndExchange(physical, size, old, value) == old) return old;
        }
    }

    /** Atomic add on RAM returning the old value; full barrier. */
    public long getAndAdd(long physical, int size, long delta) {
        int r = region(physical, size);
        if (r >= 0) {
            long off = physical - regionBase[r];
            MemorySegment m = regionSegment[r];
            if (size == 8 && (physical & 7) == 0) {
                long old = (long) VL.getAndAdd(m, off, delta);
                written(physical, size);
                return old;
            }
            if (size == 4 && (physical & 3) == 0) {
                long old = (int) VI.getAndAdd(m, off, (int) delta) & 0xFFFF_FFFFL;
                written(physical, size);
                return old;
            }
        }
        while (true) {
            long old = read(physical, size);
            if (compareAndExchange(physical, size, old, old + delta) == old) return old;
        }
    }

    private void written(long physical, int size) {
        codePages.written(physical);
        codePages.written(physical + size - 1);
    }

    /** A locked operation on something that is not RAM: done under the split lock, not atomic for the device. */
    private long nonRamRmw(long physical, int size, long expected, long update, boolean cas) {
        synchronized (splitLock) {
            long old = read(physical, size);
            if (!cas || old == (expected & mask(size))) write(physical, size, update);
            return old;
        }
    }

    /**
     * The machine-wide lock under which a locked read-modify-write whose operand is split (across
     * an 8-byte word, a cache line or a page) runs: {@code synchronized (mem.lockedSplit()) {...}}.
     */
    public Object lockedSplit() { return splitLock; }

    /** Copies guest RAM into {@code dst} (plain reads; the VMM's loaders and tests). */
    public void readBytes(long physical, byte[] dst, int off, int len) {
        for (int i = 0; i < len; i++) dst[off + i] = (byte) read(physical + i, 1);
    }
}
