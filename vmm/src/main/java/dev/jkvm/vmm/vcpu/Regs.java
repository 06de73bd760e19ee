package dev.jkvm.vmm.vcpu;

/** The general-purpose registers, RIP and RFLAGS of a vCPU, whatever runs it. */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {

    /** All registers zero except those given; RFLAGS bit 1 is reserved and always reads 1 (SDM Vol. 1 §3.4.3). */
    public static Regs of(long rax, long rbx, long rsp, long rip, long rflags) {
        return new Regs(rax, rbx, 0, 0, 0, 0, rsp, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, rflags | 0x2);
    }

}
