package dev.jkvm.klib.rt;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Atomic read-modify-write on naturally aligned memory. Compiled code uses LOCK CMPXCHG, XCHG
 * and LOCK XADD; on x86 every locked instruction is a full barrier (Intel SDM Vol. 3A 9.2.2), so
 * the Acquire and Release variants compile to the same instruction as the volatile one and exist
 * so that kernel code states the ordering it relies on (and the host JVM enforces exactly that).
 * compareAndSet returns whether the swap happened; the others return the previous value.
 */
public final class Atomic {
    private Atomic() {
    }

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    public static boolean compareAndSet32(long address, int expected, int update) {
        return INT.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static boolean compareAndSet32Acquire(long address, int expected, int update) {
        return INT.weakCompareAndSetAcquire(Memory.HOST_SPACE, address, expected, update)
                || INT.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static boolean compareAndSet32Release(long address, int expected, int update) {
        return INT.weakCompareAndSetRelease(Memory.HOST_SPACE, address, expected, update)
                || INT.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static boolean compareAndSet64(long address, long expected, long update) {
        return LONG.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static boolean compareAndSet64Acquire(long address, long expected, long update) {
        return LONG.weakCompareAndSetAcquire(Memory.HOST_SPACE, address, expected, update)
                || LONG.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static boolean compareAndSet64Release(long address, long expected, long update) {
        return LONG.weakCompareAndSetRelease(Memory.HOST_SPACE, address, expected, update)
                || LONG.compareAndSet(Memory.HOST_SPACE, address, expected, update);
    }

    public static int exchange32(long address, int value) {
        return (int) INT.getAndSet(Memory.HOST_SPACE, address, value);
    }

    public static int exchange32Acquire(long address, int value) {
        return (int) INT.getAndSetAcquire(Memory.HOST_SPACE, address, value);
    }

    public static int exchange32Release(long address, int value) {
        return (int) INT.getAndSetRelease(Memory.HOST_SPACE, address, value);
    }

    public static long exchange64(long address, long value) {
        return (long) LONG.getAndSet(Memory.HOST_SPACE, address, value);
    }

    public static long exchange64Acquire(long address, long value) {
        return (long) LONG.getAndSetAcquire(Memory.HOST_SPACE, address, value);
    }

    public static long exchange64Release(long address, long value) {
        return (long) LONG.getAndSetRelease(Memory.HOST_SPACE, address, value);
    }

    public static int fetchAdd32(long address, int delta) {
        return (int) INT.getAndAdd(Memory.HOST_SPACE, address, delta);
    }

    public static int fetchAdd32Acquire(long address, int delta) {
        return (int) INT.getAndAddAcquire(Memory.HOST_SPACE, address, delta);
    }

    public static int fetchAdd32Release(long address, int delta) {
        return (int) INT.getAndAddRelease(Memory.HOST_SPACE, address, delta);
    }

    public static long fetchAdd64(long address, long delta) {
        return (long) LONG.getAndAdd(Memory.HOST_SPACE, address, delta);
    }

    public static long fetchAdd64Acquire(long address, long delta) {
        return (long) LONG.getAndAddAcquire(Memory.HOST_SPACE, address, delta);
    }

    public static long fetchAdd64Release(long address, long delta) {
        return (long) LONG.getAndAddRelease(Memory.HOST_SPACE, address, delta);
    }

    /** Volatile load (a plain MOV on x86: loads already have acquire semantics). */
    public static int loadVolatile32(long address) {
        return (int) INT.getVolatile(Memory.HOST_SPACE, address);
    }

    public static long loadVolatile64(long address) {
        return (long) LONG.getVolatile(Memory.HOST_SPACE, address);
    }

    /** Volatile store: XCHG, which also orders it before later loads. */
    public static void storeVolatile32(long address, int value) {
        INT.setVolatile(Memory.HOST_SPACE, address, value);
    }

    public static void storeVolatile64(long address, long value) {
        LONG.setVolatile(Memory.HOST_SPACE, address, value);
    }
}
