package dev.jkvm.vmm.kvm;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** struct kvm_regs: the general-purpose registers, RIP and RFLAGS. */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {

    /** All registers zero except those given; RFLAGS bit 1 is reserved and always reads 1 (SDM Vol. 1 §3.4.3). */
    public static Regs of(long rax, long rbx, long rsp, long rip, long rflags) {
        return new Regs(rax, rbx, 0, 0, 0, 0, rsp, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, rflags | 0x2);
    }

    static Regs read(MemorySegment m) {
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

    void write(MemorySegment m) {
        m.set(JAVA_LONG, KvmAbi.REGS_RAX, rax);
        m.set(JAVA_LONG, KvmAbi.REGS_RBX, rbx);
        m.set(JAVA_LONG, KvmAbi.REGS_RCX, rcx);
        m.set(JAVA_LONG, KvmAbi.REGS_RDX, rdx);
        m.set(JAVA_LONG, KvmAbi.REGS_RSI, rsi);
        m.set(JAVA_LONG, KvmAbi.REGS_RDI, rdi);
        m.set(JAVA_LONG, KvmAbi.REGS_RSP, rsp);
        m.set(JAVA_LONG, KvmAbi.REGS_RBP, rbp);
        m.set(JAVA_LONG, KvmAbi.REGS_R8, r8);
        m.set(JAVA_LONG, KvmAbi.REGS_R9, r9);
        m.set(JAVA_LONG, KvmAbi.REGS_R10, r10);
        m.set(JAVA_LONG, KvmAbi.REGS_R11, r11);
        m.set(JAVA_LONG, KvmAbi.REGS_R12, r12);
        m.set(JAVA_LONG, KvmAbi.REGS_R13, r13);
        m.set(JAVA_LONG, KvmAbi.REGS_R14, r14);
        m.set(JAVA_LONG, KvmAbi.REGS_R15, r15);
        m.set(JAVA_LONG, KvmAbi.REGS_RIP, rip);
        m.set(JAVA_LONG, KvmAbi.REGS_RFLAGS, rflags);
    }
}
