package dev.jkvm.vmm.vcpu;

import dev.jkvm.vmm.devices.InterruptLines;
import dev.jkvm.vmm.memory.GuestMemory;

import java.util.List;

/**
 * An accelerator's machine: creates vCPUs, maps guest RAM, drives the interrupt controllers'
 * lines, and says which CPUID it can present. Everything above it (devices, ACPI, the loader,
 * the run loop) is the same on every accelerator.
 */
public interface MachineBackend extends AutoCloseable {
    /** Which accelerator this is (never {@link Accelerator#AUTO}). */
    Accelerator accelerator();

    /** A short name for the run summary, e.g. "kvm" or "emulated". */
    default String name() { return accelerator().label(); }

    /** The most vCPUs this machine can have. */
    int maxVcpus();

    /** The CPUID leaves this accelerator can present to a guest, before per-vCPU topology is patched in. */
    List<CpuidEntry> supportedCpuid();

    /** Makes every RAM region of {@code memory} guest-physical memory of this machine. Called once, before vCPUs run. */
    void mapMemory(GuestMemory memory);

    /** Creates vCPU {@code index} (its APIC ID); indexes are created in order from 0. */
    Vcpu createVcpu(int index);

    /** The GSIs of the machine's interrupt controllers (I/O APIC and, below 16, the PIC pair). */
    InterruptLines interruptLines();

    /**
     * Lines the run summary prints about this accelerator's run, e.g. the opcodes an emulated CPU
     * did not implement; empty when there is nothing to say.
     */
    default List<String> notes() { return List.of(); }

    /** Releases the machine; vCPUs are closed by their owner before. */
    @Override
    void close();
}
