package dev.jkvm.vmm.kvm;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * struct kvm_segment: a segment register's hidden descriptor cache (Intel SDM Vol. 3 §3.4.3),
 * which KVM exposes unpacked.
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    static Segment read(MemorySegment m, long at) {
        return new Segment(
                m.get(JAVA_LONG, at + KvmAbi.SEGMENT_BASE),
                m.get(JAVA_INT, at + KvmAbi.SEGMENT_LIMIT),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + KvmAbi.SEGMENT_SELECTOR)),
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_TYPE),
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_PRESENT) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_DPL),
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_DB) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_S) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_L) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_G) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_AVL) != 0,
                m.get(JAVA_BYTE, at + KvmAbi.SEGMENT_UNUSABLE) != 0);
    }

    void write(MemorySegment m, long at) {
        m.set(JAVA_LONG, at + KvmAbi.SEGMENT_BASE, base);
        m.set(JAVA_INT, at + KvmAbi.SEGMENT_LIMIT, limit);
        m.set(JAVA_SHORT, at + KvmAbi.SEGMENT_SELECTOR, (short) selector);
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_TYPE, (byte) type);
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_PRESENT, flag(present));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_DPL, (byte) dpl);
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_DB, flag(db));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_S, flag(s));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_L, flag(l));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_G, flag(g));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_AVL, flag(avl));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_UNUSABLE, flag(unusable));
    }

    private static byte flag(boolean b) { return (byte) (b ? 1 : 0); }

    @Override
    public String toString() {
        return String.format("sel=%04x base=%016x limit=%08x type=%x s=%d dpl=%d p=%d db=%d l=%d g=%d%s",
                selector, base, limit, type, s ? 1 : 0, dpl, present ? 1 : 0, db ? 1 : 0, l ? 1 : 0, g ? 1 : 0,
                unusable ? " unusable" : "");
    }
}
