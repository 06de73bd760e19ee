package dev.jkvm.vmm.emulated.cpu;

/**
 * Guest-physical memory as the emulated CPUs see it: RAM (shared by every vCPU, x86-TSO ordered),
 * the machine's internal MMIO devices (LAPIC page per vCPU, I/O APIC) and everything else as MMIO
 * exits to the VMM. CONTRACT STUB (system side owns this file).
 *
 * <p>Ordering: loads have acquire and stores release semantics and the locked operations are
 * full barriers, which gives x86-TSO on the JVM memory model (the JIT may not hoist a guest load
 * out of a spin loop). Every RAM store reports its page to {@link CodePages#written}.
 */
public class PhysicalMemory {
    public long read(long physical, int size) { throw new UnsupportedOperationException(); }

    public void write(long physical, int size, long value) { throw new UnsupportedOperationException(); }

    /** Atomic compare-and-exchange on RAM; returns the old value (== expected on success). Full barrier. */
    public long compareAndExchange(long physical, int size, long expected, long update) { throw new UnsupportedOperationException(); }

    /** Atomic exchange on RAM; full barrier. */
    public long exchange(long physical, int size, long value) { throw new UnsupportedOperationException(); }

    /** Atomic add on RAM returning the old value; full barrier. */
    public long getAndAdd(long physical, int size, long delta) { throw new UnsupportedOperationException(); }

    /**
     * Runs a locked read-modify-write whose operand is not naturally aligned (split across an
     * 8-byte word, a cache line or a page) under one machine-wide lock.
     */
    public Object lockedSplit() { throw new UnsupportedOperationException(); }

    /** Shared code-page versions for decoded-instruction invalidation. */
    public CodePages codePages() { throw new UnsupportedOperationException(); }
}
