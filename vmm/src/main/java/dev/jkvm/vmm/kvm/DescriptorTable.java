package dev.jkvm.vmm.kvm;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** struct kvm_dtable: the GDTR or IDTR (Intel SDM Vol. 3 §2.4.1, §2.4.3). */
public record DescriptorTable(long base, int limit) {
    static DescriptorTable read(MemorySegment m, long at) {
        return new DescriptorTable(m.get(JAVA_LONG, at + KvmAbi.DTABLE_BASE),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + KvmAbi.DTABLE_LIMIT)));
    }

    void write(MemorySegment m, long at) {
        m.set(JAVA_LONG, at + KvmAbi.DTABLE_BASE, base);
        m.set(JAVA_SHORT, at + KvmAbi.DTABLE_LIMIT, (short) limit);
    }

    @Override
    public String toString() { return String.format("base=%016x limit=%04x", base, limit); }
}
