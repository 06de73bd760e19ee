package dev.jkvm.klib.compiler;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Anonymous read-write-execute mappings for tests that run compiled code on host cores
 * (mmap(2) with PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS).
 */
public final class ExecutableMemory {
    private ExecutableMemory() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final int PROT_READ_WRITE_EXEC = 7;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;

    public static MemorySegment map(long size) {
        try {
            MethodHandle mmap = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MemorySegment m = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE_EXEC,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (m.address() == -1L) {
                throw new IllegalStateException("mmap of an executable region failed");
            }
            return m.reinterpret(size);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
    }

    public static void unmap(MemorySegment region, long size) {
        try {
            MethodHandle munmap = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            int rc = (int) munmap.invokeExact(region, size);
            if (rc != 0) {
                throw new IllegalStateException("munmap failed");
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
