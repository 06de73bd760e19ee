package dev.jkvm.vmm.kvm;

import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.vcpu.DescriptorTable;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Segment;
import dev.jkvm.vmm.vcpu.Sregs;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The codec between the seam's neutral records and KVM's structures: struct kvm_regs,
 * kvm_sregs, kvm_segment, kvm_dtable and kvm_cpuid_entry2 (offsets in {@link KvmAbi}).
 */
final class KvmStructs {
    private KvmStructs() {}

    static Regs readRegs(MemorySegment m) {
        return new Regs(
                m.get(JAVA_LONG, KvmAbi.REGS_RAX), m.get(JAVA_LONG, KvmAbi.REGS_RBX),
                m.get(JAVA_LONG, KvmAbi.REGS_RCX), m.get(JAVA_LONG, KvmAbi.REGS_RDX),
                m.get(JAVA_LONG, KvmAbi.REGS_RSI), m.get(JAVA_LONG, KvmAbi.REGS_RDI),
                m.get(JAVA_LONG, KvmAbi.REGS_RSP), m.get(JAVA_LONG, KvmAbi.REGS_RBP),
                m.get(JAVA_LONG, KvmAbi.REGS_R8), m.get(JAVA_LONG, KvmAbi.REGS_R9),
                m.get(JAVA_LONG, KvmAbi.REGS_R10), m.get(JAVA_LONG, KvmAbi.REGS_R11),
                m.get(JAVA_LONG, KvmAbi.REGS_R12), m.get(JAVA_LONG, KvmAbi.REGS_R13),
                m.get(JAVA_LONG, KvmAbi.REGS_R14), m.get(JAVA_LONG, KvmAbi.REGS_R15),
                m.get(JAVA_LONG, KvmAbi.REGS_RIP), m.get(JAVA_LONG, KvmAbi.REGS_RFLAGS));
    }

    static void writeRegs(MemorySegment m, Regs r) {
        m.set(JAVA_LONG, KvmAbi.REGS_RAX, r.rax());
        m.set(JAVA_LONG, KvmAbi.REGS_RBX, r.rbx());
        m.set(JAVA_LONG, KvmAbi.REGS_RCX, r.rcx());
        m.set(JAVA_LONG, KvmAbi.REGS_RDX, r.rdx());
        m.set(JAVA_LONG, KvmAbi.REGS_RSI, r.rsi());
        m.set(JAVA_LONG, KvmAbi.REGS_RDI, r.rdi());
        m.set(JAVA_LONG, KvmAbi.REGS_RSP, r.rsp());
        m.set(JAVA_LONG, KvmAbi.REGS_RBP, r.rbp());
        m.set(JAVA_LONG, KvmAbi.REGS_R8, r.r8());
        m.set(JAVA_LONG, KvmAbi.REGS_R9, r.r9());
        m.set(JAVA_LONG, KvmAbi.REGS_R10, r.r10());
        m.set(JAVA_LONG, KvmAbi.REGS_R11, r.r11());
        m.set(JAVA_LONG, KvmAbi.REGS_R12, r.r12());
        m.set(JAVA_LONG, KvmAbi.REGS_R13, r.r13());
        m.set(JAVA_LONG, KvmAbi.REGS_R14, r.r14());
        m.set(JAVA_LONG, KvmAbi.REGS_R15, r.r15());
        m.set(JAVA_LONG, KvmAbi.REGS_RIP, r.rip());
        m.set(JAVA_LONG, KvmAbi.REGS_RFLAGS, r.rflags());
    }

    static Sregs readSregs(MemorySegment m) {
        long[] bitmap = new long[4];
        for (int i = 0; i < 4; i++) bitmap[i] = m.get(JAVA_LONG, KvmAbi.SREGS_INTERRUPT_BITMAP + 8L * i);
        return new Sregs(
                readSegment(m, KvmAbi.SREGS_CS), readSegment(m, KvmAbi.SREGS_DS),
                readSegment(m, KvmAbi.SREGS_ES), readSegment(m, KvmAbi.SREGS_FS),
                readSegment(m, KvmAbi.SREGS_GS), readSegment(m, KvmAbi.SREGS_SS),
                readSegment(m, KvmAbi.SREGS_TR), readSegment(m, KvmAbi.SREGS_LDT),
                readDtable(m, KvmAbi.SREGS_GDT), readDtable(m, KvmAbi.SREGS_IDT),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR0), m.get(JAVA_LONG, KvmAbi.SREGS_CR2),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR3), m.get(JAVA_LONG, KvmAbi.SREGS_CR4),
                m.get(JAVA_LONG, KvmAbi.SREGS_CR8), m.get(JAVA_LONG, KvmAbi.SREGS_EFER),
                m.get(JAVA_LONG, KvmAbi.SREGS_APIC_BASE), bitmap);
    }

    static void writeSregs(MemorySegment m, Sregs s) {
        writeSegment(m, KvmAbi.SREGS_CS, s.cs());
        writeSegment(m, KvmAbi.SREGS_DS, s.ds());
        writeSegment(m, KvmAbi.SREGS_ES, s.es());
        writeSegment(m, KvmAbi.SREGS_FS, s.fs());
        writeSegment(m, KvmAbi.SREGS_GS, s.gs());
        writeSegment(m, KvmAbi.SREGS_SS, s.ss());
        writeSegment(m, KvmAbi.SREGS_TR, s.tr());
        writeSegment(m, KvmAbi.SREGS_LDT, s.ldt());
        writeDtable(m, KvmAbi.SREGS_GDT, s.gdt());
        writeDtable(m, KvmAbi.SREGS_IDT, s.idt());
        m.set(JAVA_LONG, KvmAbi.SREGS_CR0, s.cr0());
        m.set(JAVA_LONG, KvmAbi.SREGS_CR2, s.cr2());
        m.set(JAVA_LONG, KvmAbi.SREGS_CR3, s.cr3());
        m.set(JAVA_LONG, KvmAbi.SREGS_CR4, s.cr4());
        m.set(JAVA_LONG, KvmAbi.SREGS_CR8, s.cr8());
        m.set(JAVA_LONG, KvmAbi.SREGS_EFER, s.efer());
        m.set(JAVA_LONG, KvmAbi.SREGS_APIC_BASE, s.apicBase());
        long[] bitmap = s.interruptBitmap() == null ? new long[4] : s.interruptBitmap();
        for (int i = 0; i < 4; i++) m.set(JAVA_LONG, KvmAbi.SREGS_INTERRUPT_BITMAP + 8L * i, i < bitmap.length ? bitmap[i] : 0);
    }

    static Segment readSegment(MemorySegment m, long at) {
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

    static void writeSegment(MemorySegment m, long at, Segment s) {
        m.set(JAVA_LONG, at + KvmAbi.SEGMENT_BASE, s.base());
        m.set(JAVA_INT, at + KvmAbi.SEGMENT_LIMIT, s.limit());
        m.set(JAVA_SHORT, at + KvmAbi.SEGMENT_SELECTOR, (short) s.selector());
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_TYPE, (byte) s.type());
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_PRESENT, flag(s.present()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_DPL, (byte) s.dpl());
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_DB, flag(s.db()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_S, flag(s.s()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_L, flag(s.l()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_G, flag(s.g()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_AVL, flag(s.avl()));
        m.set(JAVA_BYTE, at + KvmAbi.SEGMENT_UNUSABLE, flag(s.unusable()));
    }

    private static byte flag(boolean b) { return (byte) (b ? 1 : 0); }

    static DescriptorTable readDtable(MemorySegment m, long at) {
        return new DescriptorTable(m.get(JAVA_LONG, at + KvmAbi.DTABLE_BASE),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + KvmAbi.DTABLE_LIMIT)));
    }

    static void writeDtable(MemorySegment m, long at, DescriptorTable t) {
        m.set(JAVA_LONG, at + KvmAbi.DTABLE_BASE, t.base());
        m.set(JAVA_SHORT, at + KvmAbi.DTABLE_LIMIT, (short) t.limit());
    }

    static CpuidEntry readCpuidEntry(MemorySegment m, long at) {
        return new CpuidEntry(
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FUNCTION), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_INDEX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FLAGS), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EAX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EBX), m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_ECX),
                m.get(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EDX));
    }

    static void writeCpuidEntry(MemorySegment m, long at, CpuidEntry e) {
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FUNCTION, e.function());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_INDEX, e.index());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_FLAGS, e.flags());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EAX, e.eax());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EBX, e.ebx());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_ECX, e.ecx());
        m.set(JAVA_INT, at + KvmAbi.CPUID_ENTRY_EDX, e.edx());
    }
}
