package dev.jkvm.vmm.emulated.lockstep;

import java.io.IOException;

/**
 * The MSRs the gdbstub does not show (SYSCALL/SYSENTER targets, PAT, TSC_AUX), read by making
 * QEMU execute RDMSR (0F 32) at its current RIP and putting the code bytes and registers back
 * afterwards. Needs CPL 0 (SDM Vol. 2B RDMSR: #GP otherwise), which the traces start in.
 */
record OracleMsrs(long star, long lstar, long cstar, long fmask, long pat, long sysenterCs, long sysenterEsp,
                  long sysenterEip, long tscAux) {
    /** MSR numbers (SDM Vol. 4, Table 2-2): STAR, LSTAR, CSTAR, FMASK, PAT, SYSENTER_CS/ESP/EIP, TSC_AUX. */
    static final int[] NUMBERS = {0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084, 0x277, 0x174, 0x175, 0x176, 0xC000_0103};

    static OracleMsrs read(QemuTarget q) throws IOException {
        X86State saved = q.state();
        byte[] code = q.read(saved.rip, 2);
        long[] v = new long[NUMBERS.length];
        try {
            q.write(saved.rip, new byte[] {0x0F, 0x32});
            for (int i = 0; i < NUMBERS.length; i++) {
                X86State s = saved.copy();
                s.gpr[1] = NUMBERS[i] & 0xFFFF_FFFFL;
                q.setState(s);
                q.step();
                X86State after = q.state();
                // As in Lockstep.step: QEMU sometimes answers a single step having executed nothing
                // (seen once in a KvmLockstepTest run, right after the code bytes were rewritten).
                for (int retry = 0; retry < 4 && after.rip == saved.rip; retry++) {
                    q.step();
                    after = q.state();
                }
                if (after.rip != saved.rip + 2) throw new IOException("RDMSR 0x" + Integer.toHexString(NUMBERS[i]) + " faulted in QEMU (CPL 3?)");
                v[i] = (after.gpr[2] & 0xFFFF_FFFFL) << 32 | (after.gpr[0] & 0xFFFF_FFFFL);
            }
        } finally {
            q.write(saved.rip, code);
            q.setState(saved);
        }
        return new OracleMsrs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
    }
}
