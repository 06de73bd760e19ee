package dev.jkvm.vmm.emulated.cpu;

/**
 * The breakpoints DR0-DR3 describe under DR7 (Intel SDM Vol. 3B §17.2): which are armed, whether
 * an instruction is at an instruction breakpoint, and which data breakpoints an access hits.
 *
 * <p>Kept off the fast paths: {@link #armed} is recomputed on every MOV to DR0-DR3/DR7 (and
 * reset/INIT), and while it is false nothing here runs. While it is true the run loop executes
 * one instruction at a time ({@link X86Cpu}), checking instruction breakpoints before each, and
 * the MMU gives pages that hold a watched range no fast TLB entry, so only accesses to those
 * pages reach {@link #access} — QEMU's way with watchpoints. Every DR write flushes the TLB.
 *
 * <p>Left out: I/O breakpoints (R/W = 10 with CR4.DE: treated as disarmed), DR7.GD (general
 * detect), instruction breakpoints on the instruction after MOV SS/POP SS (still taken), and a
 * MOV SS/POP SS data breakpoint when the next instruction faults (dropped).
 */
public final class DebugRegisters {
    /** DR7 R/W field values (SDM Vol. 3B §17.2.4): execute, write, I/O (CR4.DE), read or write. */
    static final int EXECUTE = 0, WRITE = 1, IO = 2, READ_WRITE = 3;
    /** DR6 B0-B3 (SDM §17.2.3). */
    static final long DR6_B = 0xF;

    private final X86Cpu cpu;
    private final CpuState s;

    /** Some breakpoint is enabled (L or G) with R/W execute, write or read/write. */
    boolean armed;
    /** Some enabled data breakpoint exists: the MMU keeps its pages off the fast path. */
    boolean dataArmed;
    /** B0-B3 of data breakpoints the current instruction hit (reported as a trap after it). */
    int hits;
    /**
     * B0-B3 a MOV SS or POP SS hit: held to the boundary after the next instruction (SDM Vol. 3A
     * §6.8.3), reported with that instruction's #DB; dropped if it faults.
     */
    int held;

    /** Per breakpoint, from DR7: R/W (-1 when disabled or an I/O breakpoint), and the watched range (aligned start, length). */
    private final int[] type = new int[4];
    private final long[] start = new long[4];
    private final int[] length = new int[4];

    DebugRegisters(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        java.util.Arrays.fill(type, -1);
    }

    /**
     * Recomputes the armed breakpoints from DR0-DR3 and DR7, flushes the TLB (pages may now need
     * or no longer need the slow path) and makes the executor return, so the run loop sees it.
     */
    void update() {
        long dr7 = s.dr[7];
        boolean any = false, data = false;
        for (int i = 0; i < 4; i++) {
            boolean enabled = ((dr7 >>> (2 * i)) & 3) != 0;
            int rw = (int) (dr7 >>> (16 + 4 * i)) & 3;
            // LEN: 00 one byte, 01 two, 11 four, 10 eight (SDM §17.2.5); the address's low bits are ignored
            // ("aligned on ... boundaries", §17.2.5): the range starts at DRn rounded down to the length.
            int len = switch ((int) (dr7 >>> (18 + 4 * i)) & 3) {
                case 0 -> 1;
                case 1 -> 2;
                case 2 -> 8;
                default -> 4;
            };
            type[i] = enabled && rw != IO ? rw : -1;
            length[i] = len;
            start[i] = s.dr[i] & -len;
            if (type[i] >= 0) any = true;
            if (type[i] == WRITE || type[i] == READ_WRITE) data = true;
        }
        armed = any;
        dataArmed = data;
        hits = 0;
        held = 0;
        cpu.mmu.flush(true);
        if (cpu.events != null) cpu.events.post(CpuEvents.SELF);
    }

    /**
     * B0-B3 of the enabled instruction breakpoints at the linear address {@code linear} (SDM
     * §17.3.1.1: DRn holds the instruction's first byte; LEN should be 00 and is not looked at).
     */
    int instructionHits(long linear) {
        int b = 0;
        for (int i = 0; i < 4; i++) {
            if (type[i] == EXECUTE && s.dr[i] == linear) b |= 1 << i;
        }
        return b;
    }

    /**
     * Whether the next instruction CS:RIP would raise an instruction-breakpoint #DB before running
     * (an armed one there, RFLAGS.RF clear): for a single-stepping debugger or a lockstep harness.
     */
    public boolean instructionBreakpointDue() {
        return (s.rflagsRest & Rflags.RF) == 0 && instructionBreakpointHere();
    }

    /** Whether an armed instruction breakpoint is at CS:RIP, whatever RFLAGS.RF says. */
    public boolean instructionBreakpointHere() {
        return armed && instructionHits() != 0;
    }

    /** {@link #instructionHits(long)} at CS:RIP (a 32-bit linear address outside 64-bit mode). */
    int instructionHits() {
        return instructionHits((s.segBase[CpuState.CS] + s.rip) & (cpu.mmu.is64() ? -1L : 0xFFFF_FFFFL));
    }

    /** Whether the 4 KiB page {@code vpn} holds (part of) a watched range: its TLB entry must not be a fast one. */
    boolean watchedPage(long vpn) {
        for (int i = 0; i < 4; i++) {
            if ((type[i] == WRITE || type[i] == READ_WRITE) && start[i] >>> 12 == vpn) return true;
        }
        return false;
    }

    /** A data access of {@code size} bytes at {@code linear}: records the data breakpoints it hits (SDM §17.3.1.2). */
    void access(long linear, int size, boolean write) {
        for (int i = 0; i < 4; i++) {
            int t = type[i];
            if ((t == READ_WRITE || t == WRITE && write) && linear < start[i] + length[i] && start[i] < linear + size) {
                hits |= 1 << i;
            }
        }
    }
}
