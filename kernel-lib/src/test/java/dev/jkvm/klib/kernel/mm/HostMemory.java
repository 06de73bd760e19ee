package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostAddressSpace;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Host stand-ins for the kernel's memory routines and layout table, so kernel code that only
 * touches memory runs on the host JVM against native buffers (Memory's host address space).
 */
public final class HostMemory {
    private HostMemory() {}

    /** Host bodies of the kernel's memzero/memcpy routines, for any host test of kernel code that calls them. */
    public static void defineRoutines() {
        // Checked like Memory's intrinsics: a wrong address or length fails the test, not the JVM.
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        Asm.hostDefine("kernel_memcpy", args -> {
            MemorySegment.copy(HostAddressSpace.view(args[1], args[2], "kernel_memcpy source"), 0,
                    HostAddressSpace.view(args[0], args[2], "kernel_memcpy destination"), 0, args[2]);
            return 0;
        });
    }

    /**
     * An anonymous mapping below 4 GiB (mmap with MAP_FIXED_NOREPLACE at a hint), for structures
     * whose 32-bit fields hold addresses, such as the multiboot information; given to kernel code
     * (HostAddressSpace). Never unmapped: a test process maps a few pages at most.
     */
    static MemorySegment below4GiB(long bytes) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            int protReadWrite = 3;
            int privateAnonymousFixedNoReplace = 0x02 | 0x20 | 0x100000;
            for (long hint = 0x40000000L; hint < 0xF0000000L; hint += 0x10000000L) {
                MemorySegment at = (MemorySegment) mmap.invokeExact(MemorySegment.ofAddress(hint), bytes,
                        protReadWrite, privateAnonymousFixedNoReplace, -1, 0L);
                if (at.address() == hint) {
                    MemorySegment mapped = at.reinterpret(bytes);
                    HostAddressSpace.grant(mapped);
                    return mapped;
                }
            }
        } catch (Throwable e) {
            throw new IllegalStateException("mmap below 4 GiB failed", e);
        }
        throw new IllegalStateException("no free address range below 4 GiB for a test buffer");
    }

    /** A KernelLayout table in native memory with the given entries (index, value pairs). */
    static void defineLayout(Arena arena, long... indexValue) {
        MemorySegment table = arena.allocate(KernelLayout.ENTRIES * 8L, 8);
        for (int i = 0; i < indexValue.length; i += 2) {
            table.setAtIndex(ValueLayout.JAVA_LONG, indexValue[i], indexValue[i + 1]);
        }
        long address = table.address();
        Asm.hostDefine(KernelLayout.SYMBOL, args -> address);
    }
}
