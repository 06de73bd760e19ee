package dev.jkvm.klib.rt;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kernel code on the host JVM touches only memory the test gave it; everything else is a Java exception. */
class HostAddressSpaceTest {
    /** Stands for kernel code: the fault must name this method, not the intrinsic. */
    private static int kernelReadsPastItsBuffer(long buffer, long length) {
        return Memory.load32(buffer + length);
    }

    @Test
    void anAccessPastTheGivenMemoryIsAFaultNamingAddressSizeAndMethod() {
        try (Arena arena = HostArena.ofConfined()) {
            long buffer = arena.allocate(64, 8).address();
            Memory.store32(buffer + 60, 0x12345678);
            assertEquals(0x12345678, Memory.load32(buffer + 60));
            HostMemoryFault fault = assertThrows(HostMemoryFault.class, () -> kernelReadsPastItsBuffer(buffer, 64));
            assertEquals(buffer + 64, fault.address());
            assertEquals(4, fault.size());
            assertEquals("load32", fault.access());
            assertTrue(fault.kernelMethod().startsWith(
                    HostAddressSpaceTest.class.getName() + ".kernelReadsPastItsBuffer:"), fault.kernelMethod());
            assertTrue(fault.getMessage().contains(String.format("0x%016x", buffer + 64)), fault.getMessage());
        }
    }

    @Test
    void anAccessStraddlingTheEndIsAFaultEvenThoughItsFirstByteIsGiven() {
        try (Arena arena = HostArena.ofConfined()) {
            long buffer = arena.allocate(16, 8).address();
            assertThrows(HostMemoryFault.class, () -> Memory.load64(buffer + 9));
            assertThrows(HostMemoryFault.class, () -> Memory.store16(buffer + 15, (short) 1));
            Memory.store64(buffer + 8, -1L);
            assertEquals(-1L, Memory.load64(buffer + 8));
        }
    }

    @Test
    void memoryGrantedAtAFixedLowAddressIsTheSegmentsBytesThereAndNowhereElse() {
        org.junit.jupiter.api.Assumptions.assumeTrue(HostAddressSpace.CHECKED);
        long low = 0x8000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096, 4096);
            HostAddressSpace.grantAt(low, page);
            Memory.store32(low + 0xF00, 0x12345678);
            assertEquals(0x12345678, page.get(java.lang.foreign.ValueLayout.JAVA_INT, 0xF00));
            assertEquals(0x12345678, Memory.load32(low + 0xF00));
            assertThrows(HostMemoryFault.class, () -> Memory.load8(low + 4096));
            assertThrows(HostMemoryFault.class, () -> Memory.load8(low - 1));
            assertThrows(HostMemoryFault.class, () -> Memory.load8(page.address()), "only at the address it was granted at");
        }
        assertThrows(HostMemoryFault.class, () -> Memory.load8(low), "gone with its arena");
    }

    @Test
    void wildAndNullAddressesAreFaultsNotCrashes() {
        for (long wild : new long[] {0, 8, 0xFEE00000L, 0x7FFF_FFFF_F000L, -8, Long.MAX_VALUE - 2}) {
            HostMemoryFault fault = assertThrows(HostMemoryFault.class, () -> Memory.load8(wild));
            assertEquals(wild, fault.address());
            assertThrows(HostMemoryFault.class, () -> Memory.store64(wild, 1));
            assertThrows(HostMemoryFault.class, () -> Atomic.compareAndSet32(wild, 0, 1));
            assertThrows(HostMemoryFault.class, () -> Atomic.fetchAdd64(wild, 1));
        }
    }

    @Test
    void memoryIsTakenBackWhenItsArenaCloses() {
        long buffer;
        try (Arena arena = HostArena.ofConfined()) {
            buffer = arena.allocate(32, 8).address();
            Memory.store8(buffer, (byte) 1);
        }
        HostMemoryFault fault = assertThrows(HostMemoryFault.class, () -> Memory.load8(buffer));
        assertEquals(buffer, fault.address());
        assertEquals(1, fault.size());
    }

    @Test
    void atomicsKeepTheirSemanticsAcrossThreads() throws InterruptedException {
        try (Arena arena = HostArena.ofShared()) {
            long counter = arena.allocate(8, 8).address();
            long word = arena.allocate(8, 8).address();
            Memory.store64(counter, 0);
            Thread[] threads = new Thread[2];
            for (int t = 0; t < threads.length; t++) {
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        Atomic.fetchAdd64(counter, 1);
                    }
                });
                threads[t].start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(40_000L, Atomic.loadVolatile64(counter));
            Atomic.storeVolatile32(word, 5);
            assertFalse(Atomic.compareAndSet32(word, 4, 9));
            assertTrue(Atomic.compareAndSet32Acquire(word, 5, 9));
            assertEquals(9, Atomic.exchange32Release(word, 11));
            assertEquals(11, Atomic.fetchAdd32(word, 1));
            assertEquals(12, Memory.load32(word));
        }
    }

    @Test
    void memoryOfAConfinedArenaIsReachableFromOtherThreadsLikeRam() throws InterruptedException {
        try (Arena arena = HostArena.ofConfined()) {
            long cell = arena.allocate(8, 8).address();
            AtomicInteger seen = new AtomicInteger();
            Thread other = new Thread(() -> {
                Memory.store32(cell, 42);
                seen.set(Memory.load32(cell));
            });
            other.start();
            other.join();
            assertEquals(42, seen.get());
        }
    }

    @Test
    void aSliceGrantedInsideALargerSegmentDoesNotHideTheRest() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment big = arena.allocate(4096, 8);
            HostAddressSpace.grant(big.asSlice(1024, 16));
            Memory.store64(big.address() + 2000, 7);
            assertEquals(7, Memory.load64(big.address() + 2000));
            Memory.store64(big.address() + 1020, 3);
            assertEquals(3, Memory.load64(big.address() + 1020));
        }
    }

    @Test
    void hostStandInsGetCheckedViews() {
        try (Arena arena = HostArena.ofConfined()) {
            long buffer = arena.allocate(32, 8).address();
            HostAddressSpace.view(buffer, 32, "kernel_memzero").fill((byte) 0);
            HostMemoryFault fault = assertThrows(HostMemoryFault.class,
                    () -> HostAddressSpace.view(buffer, 33, "kernel_memzero"));
            assertEquals("kernel_memzero", fault.access());
            assertEquals(33, fault.size());
        }
    }
}
