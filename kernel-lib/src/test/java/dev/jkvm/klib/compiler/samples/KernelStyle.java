package dev.jkvm.klib.compiler.samples;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/** Intrinsics that also run in user mode, so they can be compared natively on the host. */
public final class KernelStyle {
    private KernelStyle() {
    }

    public static long sumWords(long base, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Memory.load64(base + 8L * i);
        }
        return sum;
    }

    public static void fillBytes(long base, int n, byte value) {
        for (int i = 0; i < n; i++) {
            Memory.store8(base + i, (byte) (value + i));
        }
    }

    public static int mixedWidths(long base, int v) {
        Memory.store16(base, (short) 0x8001);
        Memory.store32(base + 4, v);
        Memory.store64(base + 8, -2L);
        Memory.store8(base + 16, (byte) v);
        return Memory.load16(base) + Memory.load8(base + 1) + Memory.load32(base + 4)
                + (int) Memory.load64(base + 8) + Memory.load8(base + 16);
    }

    public static long atomics(long base, long v) {
        Atomic.storeVolatile64(base, v);
        long old = Atomic.fetchAdd64(base, 5);
        boolean swapped = Atomic.compareAndSet64(base, v + 5, 100);
        boolean failed = Atomic.compareAndSet64Acquire(base, v + 5, 7);
        long previous = Atomic.exchange64Release(base, 3);
        Atomic.storeVolatile32(base + 8, (int) v);
        int before = Atomic.fetchAdd32(base + 8, 7);
        boolean swapped32 = Atomic.compareAndSet32(base + 8, (int) v + 7, -1);
        int exchanged = Atomic.exchange32Acquire(base + 8, 42);
        Fence.full();
        Fence.acquire();
        return old * 31 + (swapped ? 1 : 0) + (failed ? 2 : 0) + previous * 7 + before + (swapped32 ? 4 : 0)
                + exchanged + Atomic.loadVolatile64(base) + Atomic.loadVolatile32(base + 8);
    }

    public static void greet(int n) {
        Console.print("hello ");
        Console.printHex(n * 3L);
        Console.print("\n");
    }

    public static long callsAssembly(long a, long b) {
        return Asm.call("test_scale_add", a, b) + Asm.call("test_scale_add", b, 1) * 2;
    }
}
