package dev.jkvm.klib.nativecode;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Native code that faults, for NativeCodeHarnessTest to show that such a crash becomes a failed
 * test with its address. Never run in the test JVM itself: tagged native-code (excluded there),
 * not @NativeCode (so the harness does not run it as one of the real classes), and its name does
 * not end in Test.
 */
@Tag(NativeCode.TAG)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NativeCrashSample {
    /** In the first page, which Linux never maps (vm.mmap_min_addr): reading it is SEGV_MAPERR. */
    static final long WILD_ADDRESS = 0x10;

    @Test
    @Order(1)
    void passesBeforeTheCrash() {
    }

    @Test
    @Order(2)
    void readsAWildAddressInNativeCode() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        long length = (long) strlen.invokeExact(MemorySegment.ofAddress(WILD_ADDRESS));
        throw new AssertionError("strlen of address 0x10 returned " + length);
    }
}
