package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Msr;

/**
 * The CPU features the kernel uses, read from CPUID (never assumed: the CPUID of a nested paravirtual
 * KVM such as kvm_pvm lacks some features bare metal has), and switched on where CPUID reports them. Each CPU runs the same
 * detection, so CPUs that disagree can be reported.
 */
public final class Features {
    private Features() {
    }

    public static final int NX = 1;
    public static final int SMEP = 1 << 1;
    public static final int SMAP = 1 << 2;
    public static final int UMIP = 1 << 3;
    public static final int X2APIC = 1 << 4;
    public static final int PGE = 1 << 5;
    public static final int PAGES_1G = 1 << 6;
    public static final int PCID = 1 << 7;
    public static final int INVARIANT_TSC = 1 << 8;
    public static final int TSC_DEADLINE = 1 << 9;

    /** Control-register bits (Intel SDM Vol. 3A 2.5); EFER's are in arch.Efer. */
    public static final long CR0_WP = 1L << 16;
    public static final long CR4_UMIP = 1L << 11;
    public static final long CR4_SMEP = 1L << 20;
    public static final long CR4_SMAP = 1L << 21;

    public static int detect() {
        int features = 0;
        int maxLeaf = Cpu.cpuidEax(0, 0);
        int ecx1 = Cpu.cpuidEcx(1, 0);
        int edx1 = Cpu.cpuidEdx(1, 0);
        if ((ecx1 & (1 << 21)) != 0) {
            features |= X2APIC;
        }
        if ((ecx1 & (1 << 17)) != 0) {
            features |= PCID;
        }
        if ((ecx1 & (1 << 24)) != 0) {
            features |= TSC_DEADLINE;
        }
        if ((edx1 & (1 << 13)) != 0) {
            features |= PGE;
        }
        if (maxLeaf >= 7) {
            int ebx7 = Cpu.cpuidEbx(7, 0);
            if ((ebx7 & (1 << 7)) != 0) {
                features |= SMEP;
            }
            if ((ebx7 & (1 << 20)) != 0) {
                features |= SMAP;
            }
            if ((Cpu.cpuidEcx(7, 0) & (1 << 2)) != 0) {
                features |= UMIP;
            }
        }
        int maxExtended = Cpu.cpuidEax(0x80000000, 0);
        if ((maxExtended & 0xFFFFFFFFL) >= 0x80000001L) {
            int edx = Cpu.cpuidEdx(0x80000001, 0);
            if ((edx & (1 << 20)) != 0) {
                features |= NX;
            }
            if ((edx & (1 << 26)) != 0) {
                features |= PAGES_1G;
            }
        }
        if ((maxExtended & 0xFFFFFFFFL) >= 0x80000007L
                && (Cpu.cpuidEdx(0x80000007, 0) & (1 << 8)) != 0) {
            features |= INVARIANT_TSC;
        }
        return features;
    }

    /** EFER.NXE first: the kernel's page tables carry NX bits only when the CPU has it. */
    public static void enableNx(int features) {
        if ((features & NX) != 0) {
            Msr.write(Efer.MSR, Msr.read(Efer.MSR) | Efer.NXE);
        }
    }

    /**
     * CR0.WP (read-only pages bind ring 0 too, so kernel text is really read-only) and the
     * protections CPUID reports: SMEP, SMAP, UMIP. Returns the protections now on.
     */
    public static int enableProtections(int features) {
        Cpu.writeCr0(Cpu.readCr0() | CR0_WP);
        long cr4 = Cpu.readCr4();
        int enabled = 0;
        if ((features & SMEP) != 0) {
            cr4 |= CR4_SMEP;
            enabled |= SMEP;
        }
        if ((features & SMAP) != 0) {
            cr4 |= CR4_SMAP;
            enabled |= SMAP;
        }
        if ((features & UMIP) != 0) {
            cr4 |= CR4_UMIP;
            enabled |= UMIP;
        }
        Cpu.writeCr4(cr4);
        if ((features & NX) != 0 && (Msr.read(Efer.MSR) & Efer.NXE) != 0) {
            enabled |= NX;
        }
        return enabled;
    }

    public static void print(int features) {
        if (features == 0) {
            Console.print(" (none)");
        }
        if ((features & NX) != 0) {
            Console.print(" nx");
        }
        if ((features & SMEP) != 0) {
            Console.print(" smep");
        }
        if ((features & SMAP) != 0) {
            Console.print(" smap");
        }
        if ((features & UMIP) != 0) {
            Console.print(" umip");
        }
        if ((features & X2APIC) != 0) {
            Console.print(" x2apic");
        }
        if ((features & PGE) != 0) {
            Console.print(" pge");
        }
        if ((features & PAGES_1G) != 0) {
            Console.print(" 1g-pages");
        }
        if ((features & PCID) != 0) {
            Console.print(" pcid");
        }
        if ((features & INVARIANT_TSC) != 0) {
            Console.print(" invariant-tsc");
        }
        if ((features & TSC_DEADLINE) != 0) {
            Console.print(" tsc-deadline");
        }
    }
}
