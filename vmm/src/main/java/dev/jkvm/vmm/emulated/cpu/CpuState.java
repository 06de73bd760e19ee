package dev.jkvm.vmm.emulated.cpu;

/**
 * The architectural state of one emulated x86-64 processor, as plain fields.
 *
 * <p>Fields, not accessors: the interpreter touches them on every instruction and a later
 * translator to JVM bytecode will emit {@code getfield}/{@code putfield} on them directly. Only
 * the vCPU's own thread reads or writes them while the vCPU runs; other threads read them only
 * while it is stopped (after {@code run} returned), which the vCPU loop's hand-over orders.
 *
 * <p>Segment registers are kept unpacked (selector plus the hidden descriptor cache, Intel SDM
 * Vol. 3 §3.4.3) in parallel arrays indexed by the {@code ES..GS} constants, the order of the
 * ModRM {@code sreg} field (SDM Vol. 2 Table 3-6 / §3.1.1.3): ES=0, CS=1, SS=2, DS=3, FS=4, GS=5.
 * TR and LDTR have their own index after them.
 */
public final class CpuState {
    /** Segment register indices in ModRM sreg order (SDM Vol. 2A §3.1.1.3, Table 3-6). */
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, TR = 6, LDTR = 7;
    public static final int SEGMENT_COUNT = 8;

    /** General registers RAX..R15 in encoding order (RAX=0, RCX=1, RDX=2, RBX=3, RSP=4, RBP=5, RSI=6, RDI=7, R8..R15). */
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    public final long[] gpr = new long[16];
    public long rip;

    /**
     * RFLAGS without the six arithmetic flags CF, PF, AF, ZF, SF, OF, which live in the lazy
     * flags record {@link #flags} until somebody reads them. Use {@link Flags} (ISA side) to get or
     * set the whole register.
     */
    public long rflagsRest = 0x2;
    /** Lazy arithmetic flags: the last flag-setting operation and its operands (Bochs style). */
    public final LazyFlags flags = new LazyFlags();

    // Segment registers: selector and hidden descriptor cache.
    public final int[] segSelector = new int[SEGMENT_COUNT];
    public final long[] segBase = new long[SEGMENT_COUNT];
    /** Byte-granular limit (already expanded when the descriptor's G bit is set). */
    public final long[] segLimit = new long[SEGMENT_COUNT];
    /**
     * Descriptor attributes packed as in bits 8..23 of a descriptor's high dword (SDM Vol. 3
     * Figure 3-8) shifted down by 8: type[3:0], S[4], DPL[6:5], P[7], AVL[12], L[13], D/B[14], G[15].
     * Bit 16 marks an unusable (null-loaded) register, as KVM's segment "unusable" flag.
     */
    public final int[] segAttr = new int[SEGMENT_COUNT];
    public static final int ATTR_S = 1 << 4, ATTR_P = 1 << 7, ATTR_L = 1 << 13, ATTR_DB = 1 << 14, ATTR_G = 1 << 15,
            ATTR_UNUSABLE = 1 << 16;

    public long gdtBase, idtBase;
    public int gdtLimit, idtLimit;

    public long cr0 = 0x6000_0010L, cr2, cr3, cr4;
    /** CR8 is the LAPIC TPR[7:4] (SDM Vol. 3 §10.8.6.1): kept in the LAPIC, not here. */
    public long efer;
    public final long[] dr = new long[8];

    // MSRs the CPU itself holds (the LAPIC keeps its own).
    public long star, lstar, cstar, fmask, kernelGsBase, tscAux, pat = 0x0007_0406_0007_0406L;
    public long sysenterCs, sysenterEsp, sysenterEip, miscEnable = 1L;
    /** IA32_TSC_ADJUST-style offset: guest TSC = clock TSC + tscOffset (WRMSR IA32_TSC sets it). */
    public long tscOffset;

    /**
     * SSE state: XMM0..XMM15 as low/high 64-bit halves, {@code xmm[2*i]} low, {@code xmm[2*i+1]} high;
     * MXCSR; and the x87 words FXSAVE must round-trip (SDM Vol. 1 §10.5.1, Table 10-2).
     */
    public final long[] xmm = new long[32];
    public int mxcsr = 0x1F80;
    public int fpuControl = 0x037F, fpuStatus, fpuTagWord;
    /** ST0..ST7 raw 80-bit values as 16 bytes each (FXSAVE image layout), for FXSAVE/FXRSTOR round trips only. */
    public final byte[] fpuRegisters = new byte[128];

    /** Current privilege level: CS.RPL/DPL, cached (SDM Vol. 3 §5.5). */
    public int cpl;

    /** Set by MOV SS/POP SS and STI: interrupts and NMIs are held off for one instruction (SDM Vol. 3 §6.8.3); after MOV SS/POP SS the single-step trap too (X86Cpu.executeOne). */
    public boolean interruptShadow;
    /** Between NMI delivery and the next IRET further NMIs are blocked (SDM Vol. 3 §6.7.1). */
    public boolean nmiBlocked;

    /** Activity state as KVM's MP state names it. */
    public Activity activity = Activity.RUNNING;

    public enum Activity {
        /** Executing instructions. */
        RUNNING,
        /** HLT: waits for an interrupt, NMI, INIT or SIPI. */
        HALTED,
        /** Application processor after INIT (or at power-on): waits for a SIPI (SDM Vol. 3 §8.4.4). */
        WAIT_FOR_SIPI,
        /** Triple fault happened: the processor stopped (shutdown). */
        SHUTDOWN
    }
}
