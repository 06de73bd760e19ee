package dev.jkvm.vmm.vcpu;

/**
 * Segment registers, descriptor tables and control registers of a vCPU. The pending interrupt
 * bitmap (KVM's, one bit per vector; an emulated CPU keeps pending vectors in its LAPIC and
 * reports zeros) is carried through untouched so a get/modify/set round trip preserves it.
 */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                    Segment tr, Segment ldt, DescriptorTable gdt, DescriptorTable idt,
                    long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase,
                    long[] interruptBitmap) {
    /** An empty pending-interrupt bitmap: 256 vectors, 4 words. */
    public static long[] noPendingInterrupts() { return new long[4]; }
}
