package dev.jkvm.vmm.emulated.irq;

/**
 * An interrupt controller whose vector the CPU fetches with an interrupt-acknowledge cycle: the
 * 8259 PIC behind LINT0 in virtual-wire mode (Intel SDM Vol. 3 §10.5.1, delivery mode ExtINT).
 * Implementations synchronize themselves: the BSP's thread calls these, devices change the inputs.
 */
public interface ExtIntSource {
    /** Whether the INTR output is asserted now. Must not block (a volatile read): the CPU polls it between blocks. */
    boolean hasInterrupt();

    /** The vector the next acknowledge would return, without changing state; -1 when none. */
    int peekVector();

    /** The interrupt-acknowledge cycle: moves the request to in-service and returns its vector (or the spurious vector). */
    int acknowledge();
}
