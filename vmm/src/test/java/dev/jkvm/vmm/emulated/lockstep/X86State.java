package dev.jkvm.vmm.emulated.lockstep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The processor state the lockstep harness compares after every instruction: what QEMU's gdbstub
 * {@code g} packet carries (general registers, RIP, RFLAGS, segment selectors, FS/GS/KERNEL_GS
 * bases, CR0/2/3/4/8, EFER, XMM, MXCSR). General registers are in encoding order (RAX, RCX, RDX,
 * RBX, RSP, RBP, RSI, RDI, R8..R15, SDM Vol. 2A Table 2-2), segments in ModRM sreg order (ES, CS,
 * SS, DS, FS, GS), as in {@code CpuState}. The hidden descriptor caches are not in the packet;
 * {@link SegmentState} carries them.
 */
final class X86State {
    static final String[] GPR_NAMES = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    static final String[] SEG_NAMES = {"es", "cs", "ss", "ds", "fs", "gs"};

    /** RFLAGS bits (SDM Vol. 1 §3.4.3). */
    static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
            DF = 1 << 10, OF = 1 << 11, ARITHMETIC = CF | PF | AF | ZF | SF | OF;

    final long[] gpr = new long[16];
    long rip;
    long rflags;
    final int[] selector = new int[6];
    long fsBase, gsBase, kernelGsBase;
    long cr0, cr2, cr3, cr4, cr8, efer;
    final long[] xmm = new long[32];
    int mxcsr;

    X86State copy() {
        X86State c = new X86State();
        System.arraycopy(gpr, 0, c.gpr, 0, 16);
        c.rip = rip;
        c.rflags = rflags;
        System.arraycopy(selector, 0, c.selector, 0, 6);
        c.fsBase = fsBase;
        c.gsBase = gsBase;
        c.kernelGsBase = kernelGsBase;
        c.cr0 = cr0;
        c.cr2 = cr2;
        c.cr3 = cr3;
        c.cr4 = cr4;
        c.cr8 = cr8;
        c.efer = efer;
        System.arraycopy(xmm, 0, c.xmm, 0, 32);
        c.mxcsr = mxcsr;
        return c;
    }

    /** Decodes a {@code g} packet. */
    static X86State fromGdb(RegisterLayout l, byte[] raw) {
        X86State s = new X86State();
        for (int i = 0; i < 16; i++) s.gpr[i] = l.get(raw, GPR_NAMES[i]);
        s.rip = l.get(raw, "rip");
        s.rflags = l.get(raw, "eflags");
        for (int i = 0; i < 6; i++) s.selector[i] = (int) l.get(raw, SEG_NAMES[i]) & 0xFFFF;
        s.fsBase = l.get(raw, "fs_base");
        s.gsBase = l.get(raw, "gs_base");
        s.kernelGsBase = l.has("k_gs_base") ? l.get(raw, "k_gs_base") : 0;
        s.cr0 = l.get(raw, "cr0");
        s.cr2 = l.has("cr2") ? l.get(raw, "cr2") : 0;
        s.cr3 = l.get(raw, "cr3");
        s.cr4 = l.get(raw, "cr4");
        s.cr8 = l.has("cr8") ? l.get(raw, "cr8") : 0;
        s.efer = l.get(raw, "efer");
        if (l.has("xmm15")) {
            for (int i = 0; i < 16; i++) {
                s.xmm[2 * i] = l.get(raw, "xmm" + i);
                s.xmm[2 * i + 1] = l.getHigh(raw, "xmm" + i);
            }
        }
        s.mxcsr = l.has("mxcsr") ? (int) l.get(raw, "mxcsr") : 0x1F80;
        return s;
    }

    /** Writes the general registers, RIP, RFLAGS and XMM into a {@code g} packet image for {@code G}. */
    void toGdb(RegisterLayout l, byte[] raw) {
        for (int i = 0; i < 16; i++) l.set(raw, GPR_NAMES[i], gpr[i]);
        l.set(raw, "rip", rip);
        l.set(raw, "eflags", rflags);
        if (l.has("xmm15")) {
            for (int i = 0; i < 16; i++) {
                l.set(raw, "xmm" + i, xmm[2 * i]);
                l.setHigh(raw, "xmm" + i, xmm[2 * i + 1]);
            }
        }
    }

    /**
     * Every difference from {@code expected} (the oracle), RFLAGS compared outside {@code ignoredFlags}.
     * Empty when the states agree.
     */
    List<String> differences(X86State expected, long ignoredFlags) {
        List<String> d = new ArrayList<>();
        if (rip != expected.rip) d.add(diff("rip", expected.rip, rip));
        for (int i = 0; i < 16; i++) if (gpr[i] != expected.gpr[i]) d.add(diff(GPR_NAMES[i], expected.gpr[i], gpr[i]));
        if ((rflags & ~ignoredFlags) != (expected.rflags & ~ignoredFlags)) {
            d.add(diff("rflags", expected.rflags, rflags) + " [" + flagNames(expected.rflags) + "] vs ours ["
                    + flagNames(rflags) + "]" + (ignoredFlags != 0 ? " (undefined, ignored: " + flagNames(ignoredFlags) + ")" : ""));
        }
        for (int i = 0; i < 6; i++) if (selector[i] != expected.selector[i]) d.add(diff(SEG_NAMES[i], expected.selector[i], selector[i]));
        if (fsBase != expected.fsBase) d.add(diff("fs_base", expected.fsBase, fsBase));
        if (gsBase != expected.gsBase) d.add(diff("gs_base", expected.gsBase, gsBase));
        if (kernelGsBase != expected.kernelGsBase) d.add(diff("k_gs_base", expected.kernelGsBase, kernelGsBase));
        if (cr0 != expected.cr0) d.add(diff("cr0", expected.cr0, cr0));
        if (cr2 != expected.cr2) d.add(diff("cr2", expected.cr2, cr2));
        if (cr3 != expected.cr3) d.add(diff("cr3", expected.cr3, cr3));
        if (cr4 != expected.cr4) d.add(diff("cr4", expected.cr4, cr4));
        if (efer != expected.efer) d.add(diff("efer", expected.efer, efer));
        for (int i = 0; i < 16; i++) {
            if (xmm[2 * i] != expected.xmm[2 * i] || xmm[2 * i + 1] != expected.xmm[2 * i + 1]) {
                d.add(String.format("xmm%d: expected %016x_%016x, ours %016x_%016x", i, expected.xmm[2 * i + 1],
                        expected.xmm[2 * i], xmm[2 * i + 1], xmm[2 * i]));
            }
        }
        if (mxcsr != expected.mxcsr) d.add(diff("mxcsr", expected.mxcsr, mxcsr));
        return d;
    }

    private static String diff(String name, long expected, long ours) {
        return String.format("%s: expected %#x, ours %#x", name, expected, ours);
    }

    static String flagNames(long f) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"CF", "", "PF", "", "AF", "", "ZF", "SF", "TF", "IF", "DF", "OF"};
        for (int i = 0; i < names.length; i++) {
            if (!names[i].isEmpty() && (f & 1L << i) != 0) sb.append(sb.isEmpty() ? "" : " ").append(names[i]);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append(String.format("%-4s=%016x%s", GPR_NAMES[i], gpr[i], i % 4 == 3 ? "\n" : " "));
        }
        sb.append(String.format("rip =%016x rflags=%08x [%s]%n", rip, rflags, flagNames(rflags)));
        for (int i = 0; i < 6; i++) sb.append(String.format("%s=%04x ", SEG_NAMES[i], selector[i]));
        sb.append(String.format("fs_base=%x gs_base=%x k_gs_base=%x%n", fsBase, gsBase, kernelGsBase));
        sb.append(String.format("cr0=%x cr2=%x cr3=%x cr4=%x cr8=%x efer=%x mxcsr=%x%n", cr0, cr2, cr3, cr4, cr8, efer, mxcsr));
        for (int i = 0; i < 16; i++) {
            if (xmm[2 * i] != 0 || xmm[2 * i + 1] != 0) sb.append(String.format("xmm%d=%016x_%016x ", i, xmm[2 * i + 1], xmm[2 * i]));
        }
        return sb.toString().stripTrailing();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof X86State s && differences(s, 0).isEmpty();
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(gpr) ^ Long.hashCode(rip);
    }
}
