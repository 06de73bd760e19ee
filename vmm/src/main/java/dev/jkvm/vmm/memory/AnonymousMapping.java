package dev.jkvm.vmm.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Private anonymous host memory from mmap(2) with MAP_NORESERVE: pages are populated (and
 * zeroed) by the kernel on first touch, so a large guest that touches little costs little —
 * unlike an {@link Arena} allocation, which zeroes, and so commits, every byte up front. Used by
 * every accelerator, so it lives here rather than with one accelerator's system calls.
 */
final class AnonymousMapping {
    private AnonymousMapping() {}

    /** From <sys/mman.h> on Linux x86-64. */
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option SAVE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), SAVE_ERRNO);

    /** Maps {@code length} bytes readable and writable; throws naming the errno when the kernel refuses. */
    /** Nothing to do but initialise this class, which links MMAP and MUNMAP. */
    static void link() {
    }

    static MemorySegment map(long length, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, length,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (p.address() == -1L) {
                throw new IllegalStateException("mmap of " + (length >> 20) + " MiB for " + what + " failed: errno "
                        + (int) ERRNO.get(capture, 0L) + "; give the guest less memory");
            }
            return p.reinterpret(length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void unmap(MemorySegment mapping, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int r = (int) MUNMAP.invokeExact(capture, mapping, mapping.byteSize());
            if (r < 0) throw new IllegalStateException("munmap of " + what + " failed: errno " + (int) ERRNO.get(capture, 0L));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
