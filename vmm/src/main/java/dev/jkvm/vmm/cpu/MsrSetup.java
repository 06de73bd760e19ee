package dev.jkvm.vmm.cpu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The MSR values every vCPU starts with. KVM's vCPU reset state leaves IA32_MISC_ENABLE at 0,
 * which disables fast-string operations a real BIOS would have enabled; the rest restate
 * architectural reset values so the state does not depend on the host kernel's defaults.
 */
public final class MsrSetup {
    private MsrSetup() {}

    /** Intel SDM Vol. 4 Table 2-2. */
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_MISC_ENABLE = 0x1A0;
    public static final int IA32_PAT = 0x277;
    public static final int IA32_STAR = 0xC000_0081;
    public static final int IA32_LSTAR = 0xC000_0082;
    public static final int IA32_CSTAR = 0xC000_0083;
    public static final int IA32_FMASK = 0xC000_0084;
    public static final int IA32_KERNEL_GS_BASE = 0xC000_0102;

    /** IA32_MISC_ENABLE bit 0: fast-strings enable (SDM Vol. 4 Table 2-2). */
    public static final long MISC_ENABLE_FAST_STRINGS = 1L;
    /** PAT power-up value: WB, WT, UC-, UC repeated (SDM Vol. 3 §12.12.4, Table 12-12). */
    public static final long PAT_POWER_ON = 0x0007_0406_0007_0406L;

    public static Map<Integer, Long> initial() {
        Map<Integer, Long> m = new LinkedHashMap<>();
        m.put(IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRINGS);
        m.put(IA32_PAT, PAT_POWER_ON);
        m.put(IA32_SYSENTER_CS, 0L);
        m.put(IA32_SYSENTER_ESP, 0L);
        m.put(IA32_SYSENTER_EIP, 0L);
        m.put(IA32_STAR, 0L);
        m.put(IA32_LSTAR, 0L);
        m.put(IA32_CSTAR, 0L);
        m.put(IA32_FMASK, 0L);
        m.put(IA32_KERNEL_GS_BASE, 0L);
        return m;
    }
}
