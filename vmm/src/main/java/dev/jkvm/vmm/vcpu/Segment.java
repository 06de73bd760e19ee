package dev.jkvm.vmm.vcpu;

/**
 * A segment register with its hidden descriptor cache (Intel SDM Vol. 3 §3.4.3), unpacked:
 * selector, base, limit in bytes and the attribute bits of the descriptor.
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    @Override
    public String toString() {
        return String.format("sel=%04x base=%016x limit=%08x type=%x s=%d dpl=%d p=%d db=%d l=%d g=%d%s",
                selector, base, limit, type, s ? 1 : 0, dpl, present ? 1 : 0, db ? 1 : 0, l ? 1 : 0, g ? 1 : 0,
                unusable ? " unusable" : "");
    }
}
