package dev.jkvm.klib.rt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Host JVM only: an Arena whose every allocation is memory kernel code under test may touch
 * (HostAddressSpace.grant), taken back when the arena closes. Tests allocate the structures and
 * the stand-in for guest-physical memory they hand to kernel code from one of these.
 */
public final class HostArena implements Arena {
    private static final HostArena GLOBAL = new HostArena(Arena.global(), false);

    private final Arena arena;
    private final boolean closeable;
    private final List<MemorySegment> granted = new ArrayList<>();

    private HostArena(Arena arena, boolean closeable) {
        this.arena = arena;
        this.closeable = closeable;
    }

    /** Like Arena.ofConfined: closed by the thread that made it; the memory itself any thread may touch. */
    public static HostArena ofConfined() {
        return new HostArena(Arena.ofConfined(), true);
    }

    public static HostArena ofShared() {
        return new HostArena(Arena.ofShared(), true);
    }

    /** Never freed: for memory that threads left spinning by a failed test may still touch. */
    public static HostArena global() {
        return GLOBAL;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        MemorySegment segment = arena.allocate(byteSize, byteAlignment);
        HostAddressSpace.grant(segment);
        if (closeable) {
            synchronized (granted) {
                granted.add(segment);
            }
        }
        return segment;
    }

    @Override
    public MemorySegment.Scope scope() {
        return arena.scope();
    }

    @Override
    public void close() {
        if (!closeable) {
            throw new UnsupportedOperationException("the global HostArena is never closed");
        }
        arena.close();
        synchronized (granted) {
            granted.forEach(HostAddressSpace::revoke);
            granted.clear();
        }
    }
}
