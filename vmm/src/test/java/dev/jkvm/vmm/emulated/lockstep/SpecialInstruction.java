package dev.jkvm.vmm.emulated.lockstep;

/**
 * Instructions whose results legitimately differ between QEMU and the CPU under test, or which the
 * gdbstub steps differently, found from their opcode bytes (SDM Vol. 2 opcode maps, Appendix A).
 */
enum SpecialInstruction {
    NONE,
    /** CPUID (0F A2): the two machines advertise different features; EAX, EBX, ECX, EDX are taken from QEMU. */
    CPUID,
    /** RDTSC (0F 31): time; EAX, EDX taken from QEMU. */
    RDTSC,
    /** RDTSCP (0F 01 F9): time and TSC_AUX; EAX, EDX, ECX taken from QEMU. */
    RDTSCP,
    /** RDMSR (0F 32): MSRs the gdbstub cannot show (APIC base, TSC, platform MSRs); EAX, EDX taken from QEMU. */
    RDMSR,
    /** RDPMC (0F 33): performance counters; EAX, EDX taken from QEMU. */
    RDPMC,
    /** IN (E4, E5, EC, ED): the device's answer is QEMU's, handed to the CPU under test as the port's value. */
    IN,
    /** INS (6C, 6D): the device's answer lands in memory; registers are compared, the stored value is QEMU's after resync. */
    INS,
    /** HLT (F4): QEMU's single step (interrupts held off) would never return; a trace ends here. */
    HLT,
    /**
     * A string instruction with REP/REPE/REPNE: the gdbstub stops after every iteration (as a
     * hardware single-step trap does, SDM Vol. 3A §17.3.1.4), so the harness steps each CPU until
     * RIP leaves the instruction and compares there.
     */
    REP_STRING;

    static SpecialInstruction of(byte[] code, int bits) {
        int i = 0;
        boolean rep = false;
        while (i < code.length) {
            int b = code[i] & 0xFF;
            if (b == 0xF2 || b == 0xF3) {
                rep = true;
            } else if (b != 0x66 && b != 0x67 && b != 0xF0 && b != 0x2E && b != 0x36 && b != 0x3E && b != 0x26
                    && b != 0x64 && b != 0x65) {
                break;
            }
            i++;
        }
        if (bits == 64 && i < code.length && (code[i] & 0xF0) == 0x40) i++;
        if (i >= code.length) return NONE;
        int op = code[i] & 0xFF;
        int op2 = i + 1 < code.length ? code[i + 1] & 0xFF : -1;
        int op3 = i + 2 < code.length ? code[i + 2] & 0xFF : -1;
        if (op == 0x0F) {
            return switch (op2) {
                case 0xA2 -> CPUID;
                case 0x31 -> RDTSC;
                case 0x32 -> RDMSR;
                case 0x33 -> RDPMC;
                case 0x01 -> op3 == 0xF9 ? RDTSCP : NONE;
                default -> NONE;
            };
        }
        return switch (op) {
            case 0xE4, 0xE5, 0xEC, 0xED -> IN;
            case 0x6C, 0x6D -> rep ? REP_STRING : INS;
            case 0xF4 -> HLT;
            case 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF, 0x6E, 0x6F -> rep ? REP_STRING : NONE;
            default -> NONE;
        };
    }

    /** Is this a port input (the harness answers it from QEMU's AL/AX/EAX)? */
    boolean readsPort() {
        return this == IN || this == INS;
    }

    /** The general registers (encoding numbers) QEMU's values are copied from after this instruction. */
    int[] registersFromOracle() {
        return switch (this) {
            case CPUID -> new int[] {0, 1, 2, 3};
            case RDTSC, RDMSR, RDPMC -> new int[] {0, 2};
            case RDTSCP -> new int[] {0, 1, 2};
            default -> new int[0];
        };
    }
}
