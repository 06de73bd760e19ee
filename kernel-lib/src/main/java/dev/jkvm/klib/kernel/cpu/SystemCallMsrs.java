package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.rt.Msr;

/**
 * The MSRs behind SYSCALL (Intel SDM Vol. 3A 5.8.8; AMD APM Vol. 2 6.1.1), set on every CPU:
 * EFER.SCE enables the instruction; STAR[47:32] is the kernel CS that SYSCALL loads (SS is that
 * + 8) and STAR[63:48] the base SYSRET would use (SS = base + 8, CS = base + 16, Gdt's order);
 * LSTAR is the 64-bit entry; FMASK clears IF (the entry runs on the user stack until it has
 * switched), DF (the psABI's clear direction flag), TF and AC (so SMAP guards kernel accesses
 * from the first instruction on).
 */
public final class SystemCallMsrs {
    private SystemCallMsrs() {
    }

    public static final int IA32_STAR = 0xC0000081;
    public static final int IA32_LSTAR = 0xC0000082;
    public static final int IA32_FMASK = 0xC0000084;

    public static void enable(long entry) {
        Msr.write(IA32_STAR, ((long) Gdt.DATA_SELECTOR << 48) | ((long) Gdt.CODE64_SELECTOR << 32));
        Msr.write(IA32_LSTAR, entry);
        Msr.write(IA32_FMASK, Rflags.TF | Rflags.IF | Rflags.DF | Rflags.AC);
        Msr.write(Efer.MSR, Msr.read(Efer.MSR) | Efer.SCE);
    }
}
