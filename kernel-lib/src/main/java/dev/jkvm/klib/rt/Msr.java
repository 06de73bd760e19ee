package dev.jkvm.klib.rt;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Model-specific registers (RDMSR/WRMSR, Intel SDM Vol. 2B): the MSR number goes in ECX, the
 * value in EDX:EAX. On the host JVM MSRs are a simulated map that reads back what was written.
 */
public final class Msr {
    private Msr() {
    }

    private static final Map<Integer, Long> HOST_MSRS = new ConcurrentHashMap<>();

    /** Host JVM only: the simulated MSRs. */
    public static Map<Integer, Long> hostMsrs() {
        return HOST_MSRS;
    }

    public static long read(int msr) {
        return HOST_MSRS.getOrDefault(msr, 0L);
    }

    /** Host JVM only: called with (msr, value) on every write, or null; see hostObserveWrites. */
    private static volatile BiConsumer<Integer, Long> hostWriteObserver;

    /**
     * Host JVM only: lets a test see every WRMSR in order (an x2APIC ICR write is an IPI sent,
     * Intel SDM Vol. 3A 11.12.9), where the map alone keeps only the last value; null stops it.
     */
    public static void hostObserveWrites(BiConsumer<Integer, Long> observer) {
        hostWriteObserver = observer;
    }

    public static void write(int msr, long value) {
        HOST_MSRS.put(msr, value);
        BiConsumer<Integer, Long> observer = hostWriteObserver;
        if (observer != null) {
            observer.accept(msr, value);
        }
    }
}
