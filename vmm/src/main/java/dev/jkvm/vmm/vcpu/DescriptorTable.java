package dev.jkvm.vmm.vcpu;

/** The GDTR or IDTR: base and limit (Intel SDM Vol. 3 §2.4.1, §2.4.3). */
public record DescriptorTable(long base, int limit) {
    @Override
    public String toString() { return String.format("base=%016x limit=%04x", base, limit); }
}
