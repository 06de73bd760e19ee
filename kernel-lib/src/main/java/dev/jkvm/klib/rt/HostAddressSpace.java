package dev.jkvm.klib.rt;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Host JVM only: the memory that kernel code running on the JVM may touch through Memory and
 * Atomic. A test gives memory by allocating it from a HostArena (or by calling grant on a
 * segment it mapped itself); the kernel code sees the segments' host addresses, exactly as
 * compiled code sees guest-physical addresses. Any access that does not lie entirely inside one
 * live granted segment raises HostMemoryFault naming the address, the size and the kernel method,
 * instead of reaching an arbitrary address of the test JVM (which, with a wrong address in
 * kernel code, used to end in SIGSEGV and a lost JVM).
 *
 * <p>Compiled code never calls this class: the compiler turns each Memory and Atomic call into
 * its instruction, so images are unchanged. {@code -Djkvm.hostMemory=unchecked} restores raw
 * access to the whole host address space (for measuring what the checks cost).
 */
public final class HostAddressSpace {
    private HostAddressSpace() {
    }

    /** Whether accesses are checked; read once, so the JIT folds the unchecked path away. */
    public static final boolean CHECKED = !"unchecked".equals(System.getProperty("jkvm.hostMemory"));

    /** One granted range [start, end) and a view of it that any thread may use. */
    static final class Region {
        final long start;
        final long end;
        final MemorySegment view;
        private final MemorySegment.Scope scope;

        Region(long start, long end, MemorySegment view, MemorySegment.Scope scope) {
            this.start = start;
            this.end = end;
            this.view = view;
            this.scope = scope;
        }

        /** Whether [address, address + size) lies inside, overflow-safe, and the memory is still allocated. */
        boolean covers(long address, long size) {
            return address >= start && size <= end - address && address <= end && scope.isAlive();
        }
    }

    /** The unchecked mode's single region: every host address. */
    private static final Region EVERYWHERE = new Region(0, Long.MAX_VALUE,
            MemorySegment.NULL.reinterpret(Long.MAX_VALUE), MemorySegment.NULL.scope());

    /** Covers no address: where the checked mode's cache starts. */
    private static final Region NOTHING = new Region(0, 0, MemorySegment.NULL, MemorySegment.NULL.scope());

    /**
     * The granted regions sorted by start address, replaced whole on every grant and revoke (rare)
     * so that lookups (every access) are a lock-free binary search over a plain array.
     */
    private static volatile Region[] regions = new Region[0];

    /**
     * The region of the last successful lookup: kernel code touches the same structure many times
     * in a row. A plain field is enough, Region's fields are final (JLS 17.5).
     */
    private static Region lastHit = NOTHING;

    /** Lets kernel code under test touch the segment's bytes until its arena is closed. */
    public static void grant(MemorySegment segment) {
        if (segment.byteSize() == 0) {
            return;
        }
        add(segment.address(), segment);
    }

    /**
     * Lets kernel code under test touch the segment's bytes at [address, address + size) instead
     * of at the segment's own host address, until its arena is closed: for kernel code that uses
     * a fixed low physical address (the AP trampoline page at 0x8000), which no host mapping can
     * have. Checked mode only: the unchecked mode reaches raw host addresses and cannot alias.
     */
    public static void grantAt(long address, MemorySegment segment) {
        if (!CHECKED) {
            throw new IllegalStateException("HostAddressSpace.grantAt needs the checked mode; drop -Djkvm.hostMemory=unchecked");
        }
        if (segment.byteSize() == 0) {
            return;
        }
        add(address, segment);
    }

    /** Makes the segment's bytes the memory at [address, address + size). */
    private static void add(long address, MemorySegment segment) {
        Region fresh = new Region(address, address + segment.byteSize(),
                MemorySegment.ofAddress(segment.address()).reinterpret(segment.byteSize()), segment.scope());
        synchronized (HostAddressSpace.class) {
            List<Region> next = new ArrayList<>();
            for (Region r : regions) {
                // Freed memory the allocator handed out again is now the fresh segment's.
                if (r.scope.isAlive() && !(r.start == fresh.start && r.end <= fresh.end)) {
                    next.add(r);
                }
            }
            next.add(fresh);
            next.sort(Comparator.comparingLong(r -> r.start));
            regions = next.toArray(new Region[0]);
        }
    }

    /** Takes back a segment given with grant (HostArena does this when it closes). */
    public static void revoke(MemorySegment segment) {
        long start = segment.address();
        long end = start + segment.byteSize();
        synchronized (HostAddressSpace.class) {
            regions = Arrays.stream(regions).filter(r -> !(r.start == start && r.end == end) && r.scope.isAlive())
                    .toArray(Region[]::new);
        }
    }

    /**
     * A view of [address, address + length) for host stand-ins of assembler routines (memzero,
     * memcpy) that kernel code calls with addresses; checked like an access by the caller.
     */
    public static MemorySegment view(long address, long length, String routine) {
        if (length == 0) {
            return MemorySegment.NULL;
        }
        if (!CHECKED) {
            return MemorySegment.ofAddress(address).reinterpret(length);
        }
        Region region = find(address, length);
        if (region == null) {
            throw fault(routine, address, length);
        }
        return region.view.asSlice(address - region.start, length);
    }

    /** The region holding the access, or a HostMemoryFault; access names the intrinsic. */
    static Region region(long address, int size, String access) {
        if (!CHECKED) {
            return EVERYWHERE;
        }
        Region last = lastHit;
        if (last.covers(address, size)) {
            return last;
        }
        Region region = find(address, size);
        if (region == null) {
            throw fault(access, address, size);
        }
        lastHit = region;
        return region;
    }

    private static Region find(long address, long size) {
        Region[] all = regions;
        // The last region starting at or below the address, then any earlier one that covers it
        // (a segment granted inside a larger one, a slice, must not hide the larger one).
        int low = 0;
        int high = all.length - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (all[mid].start <= address) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        for (int i = high; i >= 0; i--) {
            if (all[i].covers(address, size)) {
                return all[i];
            }
        }
        return null;
    }

    /** Frames to skip to reach the kernel code that made an access. */
    private static final java.util.Set<String> INTRINSIC_CLASSES = java.util.Set.of(Memory.class.getName(),
            Atomic.class.getName(), HostAddressSpace.class.getName());

    private static HostMemoryFault fault(String access, long address, long size) {
        String caller = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !INTRINSIC_CLASSES.contains(f.getClassName()))
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                .orElse("unknown code"));
        return new HostMemoryFault(access, address, (int) Math.min(size, Integer.MAX_VALUE), caller,
                describe(address));
    }

    /** Where the address is relative to the granted memory, to help find the wrong computation. */
    private static String describe(long address) {
        Region[] all = regions;
        Region below = null;
        Region above = null;
        for (Region r : all) {
            if (r.start <= address) {
                below = r;
            } else if (above == null) {
                above = r;
            }
        }
        StringBuilder text = new StringBuilder("outside the memory the test gave the kernel code (")
                .append(all.length).append(" segment").append(all.length == 1 ? "" : "s");
        if (below != null) {
            text.append(String.format("; nearest below [0x%x, 0x%x)%s", below.start, below.end,
                    below.scope.isAlive() ? "" : " already freed"));
        }
        if (above != null) {
            text.append(String.format("; nearest above starts at 0x%x", above.start));
        }
        return text.append("); allocate it from a HostArena or HostAddressSpace.grant it").toString();
    }
}
