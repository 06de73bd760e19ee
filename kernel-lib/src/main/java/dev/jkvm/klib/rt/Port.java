package dev.jkvm.klib.rt;

import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/**
 * x86 port I/O (IN/OUT, Intel SDM Vol. 1 18.2). Compiled code emits the instruction with the
 * port in DX. On the host JVM ports are a simulated map: a write is remembered and read back,
 * which lets host tests observe what kernel code wrote.
 */
public final class Port {
    private Port() {
    }

    private static final Map<Integer, Integer> HOST_PORTS = new ConcurrentHashMap<>();

    /** Host JVM only: the simulated port space (port number to last value written or preset). */
    public static Map<Integer, Integer> hostPorts() {
        return HOST_PORTS;
    }

    private static int hostRead(int port, int mask) {
        return HOST_PORTS.getOrDefault(port & 0xFFFF, mask) & mask;
    }

    public static int in8(int port) {
        return hostRead(port, 0xFF);
    }

    public static int in16(int port) {
        return hostRead(port, 0xFFFF);
    }

    public static int in32(int port) {
        return hostRead(port, -1);
    }

    public static void out8(int port, int value) {
        HOST_PORTS.put(port & 0xFFFF, value & 0xFF);
    }

    public static void out16(int port, int value) {
        HOST_PORTS.put(port & 0xFFFF, value & 0xFFFF);
    }

    public static void out32(int port, int value) {
        HOST_PORTS.put(port & 0xFFFF, value);
    }
}
