package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;

/**
 * What the kernel cannot run without, checked in CPUID before first use, each missing piece named
 * on one line so the run stops cleanly instead of failing later in a way that blames something
 * else (a PIT interrupt shown as a double fault, every ring-3 task dying with #UD).
 *
 * Required: a local APIC (CPUID.01H:EDX[9], Intel SDM Vol. 3A 11.4.2): the timer, the IPIs and AP
 * start-up all go through it. SYSCALL/SYSRET (CPUID.80000001H:EDX[11], SDM Vol. 2B SYSCALL): the
 * only way ring-3 tasks enter the kernel. NX (CPUID.80000001H:EDX[20]) is optional, the kernel
 * maps without it and says so in its protections list, except for test=xdata, which exists to
 * show that data is not executable.
 */
public final class HardwareCheck {
    private HardwareCheck() {
    }

    private static final int EDX1_APIC = 1 << 9;
    private static final int EXTENDED_EDX_SYSCALL = 1 << 11;

    public static boolean hasLocalApic() {
        return (Cpu.cpuidEdx(1, 0) & EDX1_APIC) != 0;
    }

    public static boolean hasSyscall() {
        return (Cpu.cpuidEax(0x80000000, 0) & 0xFFFFFFFFL) >= 0x80000001L
                && (Cpu.cpuidEdx(0x80000001, 0) & EXTENDED_EDX_SYSCALL) != 0;
    }

    /** True when everything required is there; otherwise one line per missing feature. */
    public static boolean requiredPresent(int features, boolean needNx) {
        boolean ok = true;
        if (!hasLocalApic()) {
            Console.print("cpu: no local APIC (CPUID 1 EDX bit 9): the kernel's timer, IPIs and AP start-up need"
                    + " one; run on a CPU model with an APIC (not -cpu ...,-apic); stopping\n");
            ok = false;
        }
        if (!hasSyscall()) {
            Console.print("cpu: no SYSCALL/SYSRET (CPUID 0x80000001 EDX bit 11): ring-3 tasks enter the kernel"
                    + " through SYSCALL; run on a CPU model that has it (not -cpu ...,-syscall); stopping\n");
            ok = false;
        }
        if (needNx && (features & Features.NX) == 0) {
            Console.print("cpu: no NX (CPUID 0x80000001 EDX bit 20): test=xdata shows that data pages are not"
                    + " executable, which needs NX; run on a CPU model with NX or drop test=xdata; stopping\n");
            ok = false;
        }
        return ok;
    }
}
