package dev.jkvm.klib.rt;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

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

    private static final ConcurrentNavigableMap<Long, Region> REGIONS = new ConcurrentSkipListMap<>();

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
        long start = segment.address();
        Region region = new Region(start, start + segment.byteSize(),
                MemorySegment.ofAddress(start).reinterpret(segment.byteSize()), segment.scope());
        REGIONS.merge(start, region, (old, fresh) ->
                old.scope.isAlive() && old.end >= fresh.end ? old : fresh);
    }

    /** Takes back a segment given with grant (HostArena does this when it closes). */
    public static void revoke(MemorySegment segment) {
        Region region = REGIONS.get(segment.address());
        if (region != null && region.end == segment.address() + segment.byteSize()) {
            REGIONS.remove(segment.address(), region);
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
        Map.Entry<Long, Region> floor = REGIONS.floorEntry(address);
        if (floor == null) {
            return null;
        }
        if (floor.getValue().covers(address, size)) {
            return floor.getValue();
        }
        // A smaller segment granted inside a larger one (a slice) can hide the larger one.
        for (Region r : REGIONS.headMap(address, true).descendingMap().values()) {
            if (r.covers(address, size)) {
                return r;
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
        Map.Entry<Long, Region> below = REGIONS.floorEntry(address);
        Map.Entry<Long, Region> above = REGIONS.higherEntry(address);
        StringBuilder text = new StringBuilder("outside the memory the test gave the kernel code (")
                .append(REGIONS.size()).append(" segment").append(REGIONS.size() == 1 ? "" : "s");
        if (below != null) {
            Region r = below.getValue();
            text.append(String.format("; nearest below [0x%x, 0x%x)%s", r.start, r.end,
                    r.scope.isAlive() ? "" : " already freed"));
        }
        if (above != null) {
            text.append(String.format("; nearest above starts at 0x%x", above.getValue().start));
        }
        return text.append("); allocate it from a HostArena or HostAddressSpace.grant it").toString();
    }
}
