package dev.jkvm.klib.rt;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Privileged and special CPU instructions. Each call compiles to the instruction itself
 * (Intel SDM Vol. 2). On the host JVM control registers, CPUID leaves and the interrupt flag
 * are simulated state so that kernel logic can be unit-tested; rdtsc uses the host clock.
 */
public final class Cpu {
    private Cpu() {
    }

    private static final long[] HOST_CONTROL_REGISTERS = new long[5];
    private static final Map<Long, int[]> HOST_CPUID = new ConcurrentHashMap<>();
    private static volatile boolean hostInterruptsEnabled;

    /** Host JVM only: presets the four registers CPUID(leaf, subleaf) returns. */
    public static void hostSetCpuid(int leaf, int subleaf, int eax, int ebx, int ecx, int edx) {
        HOST_CPUID.put(cpuidKey(leaf, subleaf), new int[] {eax, ebx, ecx, edx});
    }

    /** Host JVM only: whether the simulated RFLAGS.IF is set. */
    public static boolean hostInterruptsEnabled() {
        return hostInterruptsEnabled;
    }

    private static long cpuidKey(int leaf, int subleaf) {
        return ((long) leaf << 32) | (subleaf & 0xFFFFFFFFL);
    }

    private static int hostCpuid(int leaf, int subleaf, int register) {
        int[] values = HOST_CPUID.get(cpuidKey(leaf, subleaf));
        return values == null ? 0 : values[register];
    }

    public static long readCr0() {
        return HOST_CONTROL_REGISTERS[0];
    }

    public static long readCr2() {
        return HOST_CONTROL_REGISTERS[2];
    }

    public static long readCr3() {
        return HOST_CONTROL_REGISTERS[3];
    }

    public static long readCr4() {
        return HOST_CONTROL_REGISTERS[4];
    }

    public static void writeCr0(long value) {
        HOST_CONTROL_REGISTERS[0] = value;
    }

    public static void writeCr3(long value) {
        HOST_CONTROL_REGISTERS[3] = value;
    }

    public static void writeCr4(long value) {
        HOST_CONTROL_REGISTERS[4] = value;
    }

    /** CPUID with EAX = leaf, ECX = subleaf; the result's EAX. */
    public static int cpuidEax(int leaf, int subleaf) {
        return hostCpuid(leaf, subleaf, 0);
    }

    public static int cpuidEbx(int leaf, int subleaf) {
        return hostCpuid(leaf, subleaf, 1);
    }

    public static int cpuidEcx(int leaf, int subleaf) {
        return hostCpuid(leaf, subleaf, 2);
    }

    public static int cpuidEdx(int leaf, int subleaf) {
        return hostCpuid(leaf, subleaf, 3);
    }

    public static long rdtsc() {
        return System.nanoTime();
    }

    public static void pause() {
        Thread.onSpinWait();
    }

    public static void hlt() {
        Thread.onSpinWait();
    }

    public static void cli() {
        hostInterruptsEnabled = false;
    }

    public static void sti() {
        hostInterruptsEnabled = true;
    }

    public static void invlpg(long linearAddress) {
        // The host has no TLB to flush; the call exists for its compiled form.
    }
}
