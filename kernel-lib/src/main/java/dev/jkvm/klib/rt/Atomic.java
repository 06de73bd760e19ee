package dev.jkvm.klib.rt;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Atomic read-modify-write on naturally aligned memory. Compiled code uses LOCK CMPXCHG, XCHG
 * and LOCK XADD; on x86 every locked instruction is a full barrier (Intel SDM Vol. 3A 9.2.2), so
 * the Acquire and Release variants compile to the same instruction as the volatile one and exist
 * so that kernel code states the ordering it relies on (and the host JVM enforces exactly that).
 * compareAndSet returns whether the swap happened; the others return the previous value.
 * On the host JVM each is a VarHandle access mode on the granted segment that holds the address
 * (HostAddressSpace), so the semantics are the JVM's; an address outside it is a HostMemoryFault.
 */
public final class Atomic {
    private Atomic() {
    }

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    public static boolean compareAndSet32(long address, int expected, int update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "compareAndSet32");
        return INT.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static boolean compareAndSet32Acquire(long address, int expected, int update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "compareAndSet32Acquire");
        return INT.weakCompareAndSetAcquire(r.view, address - r.start, expected, update)
                || INT.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static boolean compareAndSet32Release(long address, int expected, int update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "compareAndSet32Release");
        return INT.weakCompareAndSetRelease(r.view, address - r.start, expected, update)
                || INT.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static boolean compareAndSet64(long address, long expected, long update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "compareAndSet64");
        return LONG.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static boolean compareAndSet64Acquire(long address, long expected, long update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "compareAndSet64Acquire");
        return LONG.weakCompareAndSetAcquire(r.view, address - r.start, expected, update)
                || LONG.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static boolean compareAndSet64Release(long address, long expected, long update) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "compareAndSet64Release");
        return LONG.weakCompareAndSetRelease(r.view, address - r.start, expected, update)
                || LONG.compareAndSet(r.view, address - r.start, expected, update);
    }

    public static int exchange32(long address, int value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "exchange32");
        return (int) INT.getAndSet(r.view, address - r.start, value);
    }

    public static int exchange32Acquire(long address, int value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "exchange32Acquire");
        return (int) INT.getAndSetAcquire(r.view, address - r.start, value);
    }

    public static int exchange32Release(long address, int value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "exchange32Release");
        return (int) INT.getAndSetRelease(r.view, address - r.start, value);
    }

    public static long exchange64(long address, long value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "exchange64");
        return (long) LONG.getAndSet(r.view, address - r.start, value);
    }

    public static long exchange64Acquire(long address, long value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "exchange64Acquire");
        return (long) LONG.getAndSetAcquire(r.view, address - r.start, value);
    }

    public static long exchange64Release(long address, long value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "exchange64Release");
        return (long) LONG.getAndSetRelease(r.view, address - r.start, value);
    }

    public static int fetchAdd32(long address, int delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "fetchAdd32");
        return (int) INT.getAndAdd(r.view, address - r.start, delta);
    }

    public static int fetchAdd32Acquire(long address, int delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "fetchAdd32Acquire");
        return (int) INT.getAndAddAcquire(r.view, address - r.start, delta);
    }

    public static int fetchAdd32Release(long address, int delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "fetchAdd32Release");
        return (int) INT.getAndAddRelease(r.view, address - r.start, delta);
    }

    public static long fetchAdd64(long address, long delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "fetchAdd64");
        return (long) LONG.getAndAdd(r.view, address - r.start, delta);
    }

    public static long fetchAdd64Acquire(long address, long delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "fetchAdd64Acquire");
        return (long) LONG.getAndAddAcquire(r.view, address - r.start, delta);
    }

    public static long fetchAdd64Release(long address, long delta) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "fetchAdd64Release");
        return (long) LONG.getAndAddRelease(r.view, address - r.start, delta);
    }

    /** Volatile load (a plain MOV on x86: loads already have acquire semantics). */
    public static int loadVolatile32(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "loadVolatile32");
        return (int) INT.getVolatile(r.view, address - r.start);
    }

    public static long loadVolatile64(long address) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "loadVolatile64");
        return (long) LONG.getVolatile(r.view, address - r.start);
    }

    /** Volatile store: XCHG, which also orders it before later loads. */
    public static void storeVolatile32(long address, int value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 4, "storeVolatile32");
        INT.setVolatile(r.view, address - r.start, value);
    }

    public static void storeVolatile64(long address, long value) {
        HostAddressSpace.Region r = HostAddressSpace.region(address, 8, "storeVolatile64");
        LONG.setVolatile(r.view, address - r.start, value);
    }
}
