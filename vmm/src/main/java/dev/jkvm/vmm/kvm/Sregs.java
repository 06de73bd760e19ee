package dev.jkvm.vmm.kvm;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * struct kvm_sregs: segment registers, descriptor tables and control registers. The pending
 * interrupt bitmap is carried through untouched so a get/modify/set round trip preserves it.
 */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                    Segment tr, Segment ldt, DescriptorTable gdt, DescriptorTable idt,
                    long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase,
                    long[] interruptBitmap) {

    static Sregs read(MemorySegment m) {
        long[] bitmap = new long[4];
        for (int i = 0; i < 4; i++) bitmap[i] = m.get(JAVA_LONG, KvmAbi.SREGS_INTERRUPT_BITMAP + 8L * i);
        return new Sregs(
                Segment.read(m, KvmAbi.SREGS_CS), Segment.read(m, KvmAbi.SREGS_DS),
                Segment.read(m, KvmAbi.SREGS_ES), Segment.read(m, KvmAbi.SREGS_FS),
                Segment.read(m, KvmAbi.SREGS_GS), Segment.read(m, KvmAbi.SREGS_SS),
                Segment.read(m, KvmAbi.SREGS_TR), Segment.read(m, KvmAbi.SREGS_LDT),
                DescriptorTable.read(m, KvmAbi.SREGS_GDT), DescriptorTable.read(m, KvmAbi.SREGS_IDT),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR0), m.get(JAVA_LONG, KvmAbi.SREGS_CR2),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR3), m.get(JAVA_LONG, KvmAbi.SREGS_CR4),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR8), m.get(JAVA_LONG, KvmAbi.SREGS_EFER),
                m.get(JAVA_LONG, KvmAbi.SREGS_APIC_BASE), bitmap);
    }

    void write(MemorySegment m) {
        cs.write(m, KvmAbi.SREGS_CS);
        ds.write(m, KvmAbi.SREGS_DS);
        es.write(m, KvmAbi.SREGS_ES);
        fs.write(m, KvmAbi.SREGS_FS);
        gs.write(m, KvmAbi.SREGS_GS);
        ss.write(m, KvmAbi.SREGS_SS);
        tr.write(m, KvmAbi.SREGS_TR);
        ldt.write(m, KvmAbi.SREGS_LDT);
        gdt.write(m, KvmAbi.SREGS_GDT);
        idt.write(m, KvmAbi.SREGS_IDT);
        m.set(JAVA_LONG, KvmAbi.SREGS_CR0, cr0);
        m.set(JAVA_LONG, KvmAbi.SREGS_CR2, cr2);
        m.set(JAVA_LONG, KvmAbi.SREGS_CR3, cr3);
        m.set(JAVA_LONG, KvmAbi.SREGS_CR4, cr4);
        m.set(JAVA_LONG, KvmAbi.SREGS_CR8, cr8);
        m.set(JAVA_LONG, KvmAbi.SREGS_EFER, efer);
        m.set(JAVA_LONG, KvmAbi.SREGS_APIC_BASE, apicBase);
        for (int i = 0; i < 4; i++) m.set(JAVA_LONG, KvmAbi.SREGS_INTERRUPT_BITMAP + 8L * i, interruptBitmap[i]);
    }
}
