package dev.jkvm.klib.rt;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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

    public static void write(int msr, long value) {
        HOST_MSRS.put(msr, value);
    }
}
