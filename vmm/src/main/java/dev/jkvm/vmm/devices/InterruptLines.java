package dev.jkvm.vmm.devices;

/**
 * Raises and lowers guest interrupt lines (GSIs) on the in-kernel IOAPIC/PIC. The VM implements
 * it with KVM_IRQ_LINE; device tests implement it with a recorder.
 */
public interface InterruptLines {
    void setLevel(int gsi, boolean high);

    /** An edge: raise then lower, as ISA devices do for edge-triggered IRQs. */
    default void pulse(int gsi) {
        setLevel(gsi, true);
        setLevel(gsi, false);
    }
}
