package dev.jkvm.vmm.emulated.cpu;

import java.lang.invoke.VarHandle;

/**
 * Runs decoded blocks: the interpreter for the non-system instruction set (Intel SDM Vol. 2
 * instruction pages cited per handler). Bochs' design: decode once into {@link DecodedBlock}s
 * keyed by physical address, dispatch on the handler number chosen at decode time, lazy flags
 * ({@link Flags}), no allocation per executed instruction.
 *
 * <p>Contract (see CPU-DESIGN.md): before an instruction executes, {@code s.rip} already points to
 * the next one; when a {@link CpuException} escapes, {@code s.rip} is restored to the faulting
 * instruction. A system instruction is handed to {@link SystemInstructions#execute} and
 * {@link #run} returns right after it so mode or interrupt-flag changes take effect.
 */
public final class Executor {
    private static final long CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_MP = 1 << 1;
    private static final long EFER_LMA = 1 << 10;
    /** Iterations of a REP string instruction per execution before it yields (RIP stays on it). */
    private static final int REP_CHUNK = 1024;

    final X86Cpu cpu;
    final CpuState s;
    final Decoder decoder = new Decoder();
    final DecodedCache cache = new DecodedCache(decoder);
    private final Insn crossing = new Insn();
    private final UnimplementedOpcodes unimplemented = new UnimplementedOpcodes();
    private final Sse sse;
    private final Decoder.CodeSource code;
    private final JumpCache jumps = new JumpCache();
    final CodePages pages;
    /** Translation of hot 64-bit blocks to JVM bytecode ({@link BlockTranslator}). */
    private BlockTranslator translator = new BlockTranslator(BlockTranslator.modeFromProperty());

    /** Events of this vCPU: checked between blocks (one volatile read). */
    final CpuEvents events;

    /** Instructions retired since creation. */
    public long retired;

    /** Start of the executing instruction (restored into RIP when it faults). */
    private long insnStart;
    /** Set by a handler: return from {@link #run} after this instruction (system instruction). */
    private boolean stopRun;
    /** Within {@link #run}: a translated region may go on from block to block (and loop) within the budget. */
    private boolean looping;

    public Executor(X86Cpu cpu) {
        this.cpu = cpu;
        this.s = cpu.s;
        this.sse = new Sse(this);
        this.events = cpu.events;
        Mmu mmu = cpu.mmu;
        this.code = mmu::fetchByte;
        this.pages = mmu.physical().codePages();
    }

    /** Record of unimplemented instructions met so far (for the VMM summary). */
    public UnimplementedOpcodes unimplemented() {
        return unimplemented;
    }

    /**
     * Sets the translation mode ({@code on}, {@code off}, {@code always}; default from the system
     * property {@value BlockTranslator#PROPERTY}), for tests comparing translated and interpreted runs.
     */
    public void translation(String mode) {
        translator = new BlockTranslator(BlockTranslator.parse(mode));
    }

    /** Translation on after {@code threshold} executions of a block (tests: regions of several blocks, entered in their middle). */
    void translationThreshold(int threshold) {
        translator = new BlockTranslator(BlockTranslator.Mode.ON, threshold);
    }

    /** The decoded-block cache (for statistics and a later translator). */
    public DecodedCache cache() {
        return cache;
    }

    // ------------------------------------------------------------------ run loop

    /**
     * Executes instructions from CS:RIP until {@code budget} instructions ran, a system
     * instruction executed, or between blocks an event is pending. Returns the count executed.
     */
    public long run(long budget) {
        long done = 0;
        stopRun = false;
        // Code size, CS base and CPL change only through system instructions (which end the run),
        // exception and interrupt delivery (outside it) or the VMM (between runs): read them once per run.
        int mode = codeMode();
        long csBase = s.segBase[CpuState.CS];
        int context = JumpCache.context(mode, s.cpl);
        looping = true;
        try {
            while (done < budget) {
                done += runBlock(budget - done, mode, csBase, context);
                if (stopRun) break;
                CpuEvents e = events;
                if (e != null && e.peek() != 0) break;
            }
        } catch (CpuException ex) {
            s.rip = insnStart;
            throw ex;
        } finally {
            looping = false;
        }
        return done;
    }

    /** Exactly one instruction (for the interrupt shadow, single-step and lockstep tests). */
    public void step() {
        stopRun = false;
        try {
            runBlock(1);
        } catch (CpuException ex) {
            s.rip = insnStart;
            throw ex;
        }
    }

    /** Exactly one decoded block (for block-at-a-time runs on virtual time); returns the instructions executed. */
    public long stepBlock() {
        stopRun = false;
        try {
            return runBlock(DecodedCache.MAX_BLOCK);
        } catch (CpuException ex) {
            s.rip = insnStart;
            throw ex;
        }
    }

    int codeMode() {
        if ((s.efer & EFER_LMA) != 0 && (s.segAttr[CpuState.CS] & CpuState.ATTR_L) != 0) return Decoder.MODE64;
        return (s.segAttr[CpuState.CS] & CpuState.ATTR_DB) != 0 ? Decoder.MODE32 : Decoder.MODE16;
    }

    /** The instruction pointer's width in code of this size (2, 4 or 8 bytes): RIP, EIP or IP. */
    static long ripMask(int mode) {
        return mode == 8 ? -1L : mode == 4 ? 0xFFFF_FFFFL : 0xFFFFL;
    }

    private long runBlock(long max) {
        int mode = codeMode();
        return runBlock(max, mode, s.segBase[CpuState.CS], JumpCache.context(mode, s.cpl));
    }

    private long runBlock(long max, int mode, long csBase, int context) {
        long rip = s.rip;
        long linear = mode == Decoder.MODE64 ? rip : (csBase + rip) & 0xFFFF_FFFFL;
        insnStart = rip;
        Mmu mmu = cpu.mmu;
        CodePages pages = this.pages;
        DecodedBlock block = jumps.get(linear, context, mmu.epoch);
        if (block != null && block.version == pages.version(block.physical)) return runInsns(block, max, rip, mode, pages);
        long physical = mmu.translateFetch(linear);
        PhysicalMemory memory = mmu.physical();
        block = null;
        boolean ram = memory.isRam(physical, 1);
        if (ram) block = cache.lookup(physical, mode, pages);
        if (block == null) {
            if (ram) block = cache.build(code, linear, physical, mode, pages);
            if (block == null) {
                // An instruction crossing a page end, or code outside RAM: decoded every time, not cached.
                Insn in = crossing;
                decoder.decode(code, linear, mode, in);
                if (mode != Decoder.MODE64 && rip + in.length - 1 > (s.segLimit[CpuState.CS] & 0xFFFF_FFFFL)) {
                    throw cpu.ex.raise(CpuException.GP, 0);
                }
                s.rip = (rip + in.length) & ripMask(mode);
                execute(in);
                retired++;
                return 1;
            }
        }
        // The epoch is read after the translation: a walk does not change it, a fault never gets here.
        jumps.put(linear, context, mmu.epoch, block);
        return runInsns(block, max, rip, mode, pages);
    }

    /**
     * Executes {@code block} from its first instruction (at {@code rip}), at most {@code max}
     * instructions. Bookkeeping is per block, not per instruction: the retired count is added once
     * at the end, and the faulting instruction's start is recomputed from the block only when a
     * {@link CpuException} escapes. A block ends only at its last instruction (the decoder ends
     * blocks at every instruction that transfers control or may leave RIP on itself, such as a
     * REP string instruction yielding) or after a store that invalidated decoded code
     * ({@link CodePages#invalidations}): the rest of this block may be stale (SDM Vol. 3 §8.1.3).
     */
    private long runInsns(DecodedBlock block, long max, long rip, int mode, CodePages pages) {
        long executions = ++block.executions;
        Insn[] insns = block.insns;
        int n = insns.length;
        TranslatedBlock t = block.translated;
        // A block that another block's region covers has its entry already (t set): used at once.
        if (mode == Decoder.MODE64 && n <= max && translator.mode != BlockTranslator.Mode.OFF
                && (t != null || executions > translator.threshold)) {
            if (t == null) t = block.translated = translator.translate(block, cache, pages);
            if (t != TranslatedBlock.INTERPRET) {
                long done = t.run(this, rip, looping ? max : n);
                retired += done;
                return done;
            }
        }
        if (n > max) n = (int) max;
        if (mode != Decoder.MODE64) n = withinCsLimit(insns, n, rip);
        long mask = ripMask(mode);
        int invalidations = pages.invalidations;
        int i = 0;
        try {
            while (i < n) {
                Insn in = insns[i++];
                s.rip = (s.rip + in.length) & mask;
                execute(in);
                if ((in.attrs & Insn.A_WRITES_MEMORY) != 0 && pages.invalidations != invalidations) {
                    // Some decoded code was written (this vCPU's store, or another's seen early): stop unless the
                    // block's own page is untouched.
                    if (pages.version(block.physical) != block.version) break;
                    invalidations = pages.invalidations;
                }
            }
        } catch (CpuException ex) {
            // Instruction i - 1 faulted: the ones before it retired; RIP goes back to its start.
            retired += i - 1;
            long start = rip;
            for (int k = 0; k < i - 1; k++) start += insns[k].length;
            insnStart = start & mask;
            throw ex;
        }
        retired += i;
        return i;
    }

    /**
     * Instruction {@code retiredBefore} of a translated block's run faulted: as {@link #runInsns}
     * does for the interpreter, count the ones before it and remember its start for RIP.
     */
    void translatedFault(long retiredBefore, long start) {
        retired += retiredBefore;
        insnStart = start;
    }

    /**
     * How many of the block's first {@code n} instructions from {@code rip} lie wholly within the
     * CS limit; #GP(0) when the first does not (SDM Vol. 3A §5.3: outside 64-bit mode every code
     * fetch is limit-checked; real mode alike, §20.1.1). Checked per block entry, only in 16/32-bit
     * code, so 64-bit code pays nothing. Expand-down does not exist for code segments (§3.4.5.1).
     */
    private int withinCsLimit(Insn[] insns, int n, long rip) {
        long limit = s.segLimit[CpuState.CS] & 0xFFFF_FFFFL;
        long end = rip;
        for (int k = 0; k < n; k++) {
            end += insns[k].length;
            if (end - 1 > limit) {
                if (k == 0) throw cpu.ex.raise(CpuException.GP, 0);
                return k;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ dispatch

    private static final long M32 = 0xFFFF_FFFFL;

    /** Executes one instruction (RIP already at the next one): the interpreter's code, also called by translated blocks. */
    void execute(Insn in) {
        long[] g = s.gpr;
        switch (in.handler) {
            // Register-only forms (Decoder.specialise): the same operations as the generic handlers below.
            case Handler.ALU_RR64 + 0 -> { long r = alu(0, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 1 -> { long r = alu(1, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 2 -> { long r = alu(2, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 3 -> { long r = alu(3, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 4 -> { long r = alu(4, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 5 -> { long r = alu(5, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 6 -> { long r = alu(6, g[in.dst], g[in.src], 8); g[in.dst] = r; }
            case Handler.ALU_RR64 + 7 -> { long r = alu(7, g[in.dst], g[in.src], 8); }
            case Handler.ALU_RR32 + 0 -> { long r = alu(0, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 1 -> { long r = alu(1, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 2 -> { long r = alu(2, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 3 -> { long r = alu(3, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 4 -> { long r = alu(4, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 5 -> { long r = alu(5, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 6 -> { long r = alu(6, g[in.dst] & M32, g[in.src] & M32, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RR32 + 7 -> { long r = alu(7, g[in.dst] & M32, g[in.src] & M32, 4); }
            case Handler.ALU_RI64 + 0 -> { long r = alu(0, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 1 -> { long r = alu(1, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 2 -> { long r = alu(2, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 3 -> { long r = alu(3, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 4 -> { long r = alu(4, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 5 -> { long r = alu(5, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 6 -> { long r = alu(6, g[in.dst], in.imm, 8); g[in.dst] = r; }
            case Handler.ALU_RI64 + 7 -> { long r = alu(7, g[in.dst], in.imm, 8); }
            case Handler.ALU_RI32 + 0 -> { long r = alu(0, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 1 -> { long r = alu(1, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 2 -> { long r = alu(2, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 3 -> { long r = alu(3, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 4 -> { long r = alu(4, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 5 -> { long r = alu(5, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 6 -> { long r = alu(6, g[in.dst] & M32, in.imm, 4); g[in.dst] = r & M32; }
            case Handler.ALU_RI32 + 7 -> { long r = alu(7, g[in.dst] & M32, in.imm, 4); }
            case Handler.MOV_RR64 -> g[in.dst] = g[in.src];
            case Handler.MOV_RR32 -> g[in.dst] = g[in.src] & M32;
            case Handler.MOV_RI64 -> g[in.dst] = in.imm;
            case Handler.MOV_RI32 -> g[in.dst] = in.imm & M32;
            case Handler.TEST_RR64 -> Flags.record(s.flags, Flags.LOGIC, 0, 0, g[in.dst] & g[in.src], 8);
            case Handler.TEST_RR32 -> Flags.record(s.flags, Flags.LOGIC, 0, 0, g[in.dst] & g[in.src] & M32, 4);
            case Handler.MOV_LOAD64 -> g[in.dst] = cpu.mmu.read(in.segment, g[in.base] + in.disp, 8);
            case Handler.MOV_LOAD32 -> g[in.dst] = cpu.mmu.read(in.segment, g[in.base] + in.disp, 4);
            case Handler.MOV_STORE64 -> cpu.mmu.write(in.segment, g[in.base] + in.disp, 8, g[in.src]);
            case Handler.MOV_STORE32 -> cpu.mmu.write(in.segment, g[in.base] + in.disp, 4, g[in.src] & M32);
            case Handler.INC_R64 -> { long v = g[in.dst], r = v + 1; Flags.recordIncDec(s.flags, Flags.INC, v, r, 8); g[in.dst] = r; }
            case Handler.INC_R32 -> { long v = g[in.dst] & M32, r = v + 1; Flags.recordIncDec(s.flags, Flags.INC, v, r, 4); g[in.dst] = r & M32; }
            case Handler.DEC_R64 -> { long v = g[in.dst], r = v - 1; Flags.recordIncDec(s.flags, Flags.DEC, v, r, 8); g[in.dst] = r; }
            case Handler.DEC_R32 -> { long v = g[in.dst] & M32, r = v - 1; Flags.recordIncDec(s.flags, Flags.DEC, v, r, 4); g[in.dst] = r & M32; }

            case Handler.UD -> throw cpu.ex.raise(CpuException.UD, CpuException.NO_ERROR_CODE);
            case Handler.UNIMPLEMENTED -> {
                unimplemented.record(in, (s.rip - in.length) & ripMask(in.mode));
                throw cpu.ex.raise(CpuException.UD, CpuException.NO_ERROR_CODE);
            }
            case Handler.GP_LENGTH -> throw cpu.ex.raise(CpuException.GP, 0);
            case Handler.SYSTEM -> { cpu.system.execute(cpu, in); stopRun = true; }

            case Handler.ALU_EG -> aluEG(in, 0);
            case Handler.ALU_EG + 1 -> aluEG(in, 1);
            case Handler.ALU_EG + 2 -> aluEG(in, 2);
            case Handler.ALU_EG + 3 -> aluEG(in, 3);
            case Handler.ALU_EG + 4 -> aluEG(in, 4);
            case Handler.ALU_EG + 5 -> aluEG(in, 5);
            case Handler.ALU_EG + 6 -> aluEG(in, 6);
            case Handler.ALU_EG + 7 -> aluEG(in, 7);
            case Handler.ALU_GE -> aluGE(in, 0);
            case Handler.ALU_GE + 1 -> aluGE(in, 1);
            case Handler.ALU_GE + 2 -> aluGE(in, 2);
            case Handler.ALU_GE + 3 -> aluGE(in, 3);
            case Handler.ALU_GE + 4 -> aluGE(in, 4);
            case Handler.ALU_GE + 5 -> aluGE(in, 5);
            case Handler.ALU_GE + 6 -> aluGE(in, 6);
            case Handler.ALU_GE + 7 -> aluGE(in, 7);
            case Handler.ALU_EI -> aluEI(in, 0);
            case Handler.ALU_EI + 1 -> aluEI(in, 1);
            case Handler.ALU_EI + 2 -> aluEI(in, 2);
            case Handler.ALU_EI + 3 -> aluEI(in, 3);
            case Handler.ALU_EI + 4 -> aluEI(in, 4);
            case Handler.ALU_EI + 5 -> aluEI(in, 5);
            case Handler.ALU_EI + 6 -> aluEI(in, 6);
            case Handler.ALU_EI + 7 -> aluEI(in, 7);

            case Handler.TEST_EG -> {
                long a = Operands.readRm(cpu, in, in.size);
                long b = Operands.readReg(cpu, in, in.reg, in.size);
                Flags.record(s.flags, Flags.LOGIC, 0, 0, a & b, in.size);
            }
            case Handler.TEST_EI -> Flags.record(s.flags, Flags.LOGIC, 0, 0, Operands.readRm(cpu, in, in.size) & in.imm, in.size);
            case Handler.XCHG_EG -> xchg(in);
            case Handler.MOV_EG -> Operands.writeRm(cpu, in, in.size, Operands.readReg(cpu, in, in.reg, in.size));
            case Handler.MOV_GE -> Operands.writeReg(cpu, in, in.reg, in.size, Operands.readRm(cpu, in, in.size));
            case Handler.MOV_EI -> Operands.writeRm(cpu, in, in.size, in.imm);
            case Handler.LEA -> Operands.writeReg(cpu, in, in.reg, in.size, Operands.effectiveOffset(cpu, in));
            case Handler.INC, Handler.DEC, Handler.NOT, Handler.NEG -> unary(in);
            case Handler.MUL -> mul(in);
            case Handler.IMUL1 -> imul1(in);
            case Handler.DIV -> div(in);
            case Handler.IDIV -> idiv(in);
            case Handler.IMUL_GE -> imul2(in, Operands.readReg(cpu, in, in.reg, in.size), Operands.readRm(cpu, in, in.size));
            case Handler.IMUL_GEI -> imul2(in, Operands.readRm(cpu, in, in.size), in.imm);
            case Handler.SHIFT_I -> shiftRm(in, (int) in.imm);
            case Handler.SHIFT_CL -> shiftRm(in, (int) s.gpr[CpuState.RCX]);
            case Handler.SHLD_I -> shiftDouble(in, (int) in.imm, true);
            case Handler.SHLD_CL -> shiftDouble(in, (int) s.gpr[CpuState.RCX], true);
            case Handler.SHRD_I -> shiftDouble(in, (int) in.imm, false);
            case Handler.SHRD_CL -> shiftDouble(in, (int) s.gpr[CpuState.RCX], false);
            case Handler.BT_EG -> bitTest(in, 4, Operands.readReg(cpu, in, in.reg, in.size), true);
            case Handler.BTS_EG -> bitTest(in, 5, Operands.readReg(cpu, in, in.reg, in.size), true);
            case Handler.BTR_EG -> bitTest(in, 6, Operands.readReg(cpu, in, in.reg, in.size), true);
            case Handler.BTC_EG -> bitTest(in, 7, Operands.readReg(cpu, in, in.reg, in.size), true);
            case Handler.BT_EI -> bitTest(in, in.ext, in.imm, false);
            case Handler.BSF, Handler.BSR, Handler.TZCNT, Handler.LZCNT, Handler.POPCNT -> bitScan(in);
            case Handler.CMOV -> {
                long v = Operands.readRm(cpu, in, in.size);
                if (Flags.condition(s.flags, in.ext)) Operands.writeReg(cpu, in, in.reg, in.size, v);
                else if (in.size == 4) s.gpr[in.reg] &= 0xFFFF_FFFFL; // SDM Vol. 2A CMOVcc: 32-bit form clears the upper half either way
            }
            case Handler.SETCC -> Operands.writeRm(cpu, in, 1, Flags.condition(s.flags, in.ext) ? 1 : 0);
            case Handler.JCC -> { if (Flags.condition(s.flags, in.ext)) jump(in, s.rip + in.imm); }
            case Handler.JMP_REL -> jump(in, s.rip + in.imm);
            case Handler.CALL_REL -> { long t = s.rip + in.imm; push(s.rip, in.size); jump(in, t); }
            case Handler.RET -> {
                long t = pop(in.size);
                if (in.imm != 0) addStack(in.imm);
                jump(in, t);
            }
            case Handler.JMP_E -> jump(in, Operands.readRm(cpu, in, in.size));
            case Handler.CALL_E -> { long t = Operands.readRm(cpu, in, in.size); push(s.rip, in.size); jump(in, t); }
            case Handler.LOOP, Handler.LOOPE, Handler.LOOPNE -> loop(in);
            case Handler.JRCXZ -> { if ((s.gpr[CpuState.RCX] & Operands.addressMask(in.addrSize)) == 0) jump(in, s.rip + in.imm); }
            case Handler.PUSH_R -> push(s.gpr[in.rm], in.size);
            case Handler.POP_R -> {
                long v = pop(in.size);
                Operands.writeReg(cpu, in, in.rm, in.size, v);
            }
            case Handler.PUSH_E -> push(Operands.readRm(cpu, in, in.size), in.size);
            case Handler.POP_E -> popRm(in);
            case Handler.PUSH_I -> push(in.imm, in.size);
            case Handler.ENTER -> enter(in);
            case Handler.LEAVE -> leave(in);
            case Handler.PUSHA -> pusha(in);
            case Handler.POPA -> popa(in);
            case Handler.MOVZX -> Operands.writeReg(cpu, in, in.reg, in.size, Operands.readRm(cpu, in, in.ext));
            case Handler.MOVSX -> Operands.writeReg(cpu, in, in.reg, in.size, signExtend(Operands.readRm(cpu, in, in.ext), in.ext));
            case Handler.MOVSXD -> {
                long v = Operands.readRm(cpu, in, in.size == 8 ? 4 : in.size);
                Operands.writeReg(cpu, in, in.reg, in.size, in.size == 8 ? (long) (int) v : v);
            }
            case Handler.NOP -> { }
            case Handler.PAUSE -> Thread.onSpinWait();
            case Handler.CBW -> cbw(in);
            case Handler.CWD -> cwd(in);
            case Handler.LAHF -> {
                long f = Flags.get(s) & 0xD5 | 2;
                s.gpr[0] = (s.gpr[0] & ~0xFF00L) | f << 8;
            }
            case Handler.SAHF -> Flags.setSome(s.flags, Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF, s.gpr[0] >>> 8);
            case Handler.CLC -> Flags.setSome(s.flags, Flags.CF, 0);
            case Handler.STC -> Flags.setSome(s.flags, Flags.CF, Flags.CF);
            case Handler.CMC -> Flags.setSome(s.flags, Flags.CF, Flags.cf(s.flags) ^ Flags.CF);
            case Handler.CLD -> s.rflagsRest &= ~Flags.DF;
            case Handler.STD -> s.rflagsRest |= Flags.DF;
            case Handler.CMPXCHG -> cmpxchg(in);
            case Handler.CMPXCHG8B -> cmpxchg8b(in);
            case Handler.CMPXCHG16B -> cmpxchg16b(in);
            case Handler.XADD -> xadd(in);
            case Handler.BSWAP -> bswap(in);
            case Handler.MOVS, Handler.CMPS, Handler.STOS, Handler.LODS, Handler.SCAS -> string(in);
            case Handler.XLAT -> {
                long off = (s.gpr[CpuState.RBX] + (s.gpr[0] & 0xFF)) & Operands.addressMask(in.addrSize);
                Operands.writeReg(cpu, in, 0, 1, cpu.mmu.read(in.segment, off, 1));
            }
            case Handler.DAA, Handler.DAS, Handler.AAA, Handler.AAS, Handler.AAM, Handler.AAD, Handler.SALC -> bcd(in);
            case Handler.FENCE -> VarHandle.fullFence();
            case Handler.CLFLUSH -> { }
            case Handler.MOVNTI -> Operands.writeRm(cpu, in, in.size, Operands.readReg(cpu, in, in.reg, in.size));
            case Handler.FXSAVE -> sse.fxsave(in);
            case Handler.FXRSTOR -> sse.fxrstor(in);
            case Handler.LDMXCSR -> sse.ldmxcsr(in);
            case Handler.STMXCSR -> sse.stmxcsr(in);
            case Handler.FNINIT, Handler.FNSTSW, Handler.FNSTCW, Handler.FLDCW, Handler.FWAIT -> x87(in);
            case Handler.SSE -> sse.execute(in);
            default -> throw new IllegalStateException("no handler " + in.handler);
        }
    }

    // ------------------------------------------------------------------ helpers

    static long signExtend(long v, int size) {
        return switch (size) {
            case 1 -> (byte) v;
            case 2 -> (short) v;
            case 4 -> (int) v;
            default -> v;
        };
    }

    private void jump(Insn in, long target) {
        int sz = in.size;
        s.rip = sz == 8 ? target : sz == 4 ? target & 0xFFFF_FFFFL : target & 0xFFFF;
    }

    private boolean locked(Insn in) {
        return (in.prefixes & Insn.P_LOCK) != 0 && in.mod != 3;
    }

    // ------------------------------------------------------------------ ALU

    /** ADD OR ADC SBB AND SUB XOR CMP with flags (SDM Vol. 2A "ADD" ... "XOR"). */
    private long alu(int op, long a, long b, int size) {
        LazyFlags f = s.flags;
        long r;
        switch (op) {
            case 0: r = a + b; Flags.record(f, Flags.ADD, a, b, r, size); return r;
            case 1: r = a | b; Flags.record(f, Flags.LOGIC, a, b, r, size); return r;
            case 2: { long c = Flags.cf(f); r = a + b + c; Flags.recordCarry(f, Flags.ADC, a, b, r, size, c); return r; }
            case 3: { long c = Flags.cf(f); r = a - b - c; Flags.recordCarry(f, Flags.SBB, a, b, r, size, c); return r; }
            case 4: r = a & b; Flags.record(f, Flags.LOGIC, a, b, r, size); return r;
            case 5, 7: r = a - b; Flags.record(f, Flags.SUB, a, b, r, size); return r;
            default: r = a ^ b; Flags.record(f, Flags.LOGIC, a, b, r, size); return r;
        }
    }

    private void aluEG(Insn in, int op) {
        int size = in.size;
        long src = Operands.readReg(cpu, in, in.reg, size);
        if (in.mod == 3) {
            long r = alu(op, Operands.readReg(cpu, in, in.rm, size), src, size);
            if (op != 7) Operands.writeReg(cpu, in, in.rm, size, r);
        } else if (locked(in)) {
            lockedRmw(in, RMW_ALU + op, src);
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            long r = alu(op, cpu.mmu.read(in.segment, off, size), src, size);
            if (op != 7) cpu.mmu.write(in.segment, off, size, r);
        }
    }

    private void aluGE(Insn in, int op) {
        int size = in.size;
        long r = alu(op, Operands.readReg(cpu, in, in.reg, size), Operands.readRm(cpu, in, size), size);
        if (op != 7) Operands.writeReg(cpu, in, in.reg, size, r);
    }

    private void aluEI(Insn in, int op) {
        int size = in.size;
        long src = in.imm;
        if (in.mod == 3) {
            long r = alu(op, Operands.readReg(cpu, in, in.rm, size), src, size);
            if (op != 7) Operands.writeReg(cpu, in, in.rm, size, r);
        } else if (locked(in)) {
            lockedRmw(in, RMW_ALU + op, src);
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            long r = alu(op, cpu.mmu.read(in.segment, off, size), src, size);
            if (op != 7) cpu.mmu.write(in.segment, off, size, r);
        }
    }

    // Read-modify-write kinds for the locked path.
    private static final int RMW_ALU = 0, RMW_INC = 8, RMW_DEC = 9, RMW_NOT = 10, RMW_NEG = 11, RMW_BTS = 12,
            RMW_BTR = 13, RMW_BTC = 14;

    /** The new value of a read-modify-write (flags recorded as a side effect). */
    private long rmwValue(int kind, long old, long src, int size) {
        if (kind < 8) return alu(kind, old, src, size);
        LazyFlags f = s.flags;
        switch (kind) {
            case RMW_INC: { long r = old + 1; Flags.recordIncDec(f, Flags.INC, old, r, size); return r; }
            case RMW_DEC: { long r = old - 1; Flags.recordIncDec(f, Flags.DEC, old, r, size); return r; }
            case RMW_NOT: return ~old;
            case RMW_NEG: { long r = -old; Flags.record(f, Flags.SUB, 0, old, r, size); return r; }
            case RMW_BTS: return old | src;
            case RMW_BTR: return old & ~src;
            default: return old ^ src;
        }
    }

    /**
     * A LOCK-prefixed read-modify-write on memory, atomic with respect to every other vCPU: CAS
     * on the physical word when it is naturally aligned, otherwise under the machine-wide split
     * lock (SDM Vol. 3 §8.1.2.2). Returns the old value.
     */
    private long lockedRmw(Insn in, int kind, long src) {
        int size = in.size;
        long off = Operands.effectiveOffset(cpu, in);
        return lockedRmwAt(in.segment, off, size, kind, src);
    }

    private long lockedRmwAt(int seg, long off, int size, int kind, long src) {
        Mmu mmu = cpu.mmu;
        long phys = mmu.translate(seg, off, size, Mmu.WRITE);
        PhysicalMemory pm = mmu.physical();
        long m = Flags.mask(size);
        if ((phys & (size - 1)) == 0) {
            for (;;) {
                long old = pm.read(phys, size);
                long r = rmwValue(kind, old, src, size) & m;
                if (pm.compareAndExchange(phys, size, old, r) == old) return old;
            }
        }
        synchronized (pm.lockedSplit()) {
            long old = mmu.read(seg, off, size);
            mmu.write(seg, off, size, rmwValue(kind, old, src, size));
            return old;
        }
    }

    private void unary(Insn in) {
        int kind = switch (in.handler) {
            case Handler.INC -> RMW_INC;
            case Handler.DEC -> RMW_DEC;
            case Handler.NOT -> RMW_NOT;
            default -> RMW_NEG;
        };
        int size = in.size;
        if (in.mod == 3) {
            Operands.writeReg(cpu, in, in.rm, size, rmwValue(kind, Operands.readReg(cpu, in, in.rm, size), 0, size));
        } else if (locked(in)) {
            lockedRmw(in, kind, 0);
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            cpu.mmu.write(in.segment, off, size, rmwValue(kind, cpu.mmu.read(in.segment, off, size), 0, size));
        }
    }

    private void xchg(Insn in) {
        int size = in.size;
        long r = Operands.readReg(cpu, in, in.reg, size);
        if (in.mod == 3) {
            long v = Operands.readReg(cpu, in, in.rm, size);
            Operands.writeReg(cpu, in, in.rm, size, r);
            Operands.writeReg(cpu, in, in.reg, size, v);
            return;
        }
        // XCHG with memory is always locked (SDM Vol. 2B XCHG).
        long off = Operands.effectiveOffset(cpu, in);
        Mmu mmu = cpu.mmu;
        long phys = mmu.translate(in.segment, off, size, Mmu.WRITE);
        PhysicalMemory pm = mmu.physical();
        long old;
        if ((phys & (size - 1)) == 0) {
            old = pm.exchange(phys, size, r & Flags.mask(size));
        } else {
            synchronized (pm.lockedSplit()) {
                old = mmu.read(in.segment, off, size);
                mmu.write(in.segment, off, size, r);
            }
        }
        Operands.writeReg(cpu, in, in.reg, size, old);
    }

    private void xadd(Insn in) {
        int size = in.size;
        long src = Operands.readReg(cpu, in, in.reg, size);
        long old;
        if (in.mod == 3) {
            old = Operands.readReg(cpu, in, in.rm, size);
            long sum = alu(0, old, src, size);
            Operands.writeReg(cpu, in, in.reg, size, old);
            Operands.writeReg(cpu, in, in.rm, size, sum);
            return;
        }
        long off = Operands.effectiveOffset(cpu, in);
        if (locked(in)) {
            Mmu mmu = cpu.mmu;
            long phys = mmu.translate(in.segment, off, size, Mmu.WRITE);
            PhysicalMemory pm = mmu.physical();
            if ((phys & (size - 1)) == 0) {
                old = pm.getAndAdd(phys, size, src) & Flags.mask(size);
                alu(0, old, src, size);
            } else {
                old = lockedRmwAt(in.segment, off, size, RMW_ALU, src);
            }
        } else {
            old = cpu.mmu.read(in.segment, off, size);
            cpu.mmu.write(in.segment, off, size, alu(0, old, src, size));
        }
        Operands.writeReg(cpu, in, in.reg, size, old);
    }

    /** CMPXCHG (SDM Vol. 2A): compare the accumulator with r/m; ZF and the CMP flags say which way it went. */
    private void cmpxchg(Insn in) {
        int size = in.size;
        long m = Flags.mask(size);
        long acc = s.gpr[0] & m;
        long src = Operands.readReg(cpu, in, in.reg, size);
        long old;
        if (in.mod == 3) {
            old = Operands.readReg(cpu, in, in.rm, size);
            if (old == acc) Operands.writeReg(cpu, in, in.rm, size, src);
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            if (locked(in)) {
                Mmu mmu = cpu.mmu;
                long phys = mmu.translate(in.segment, off, size, Mmu.WRITE);
                PhysicalMemory pm = mmu.physical();
                if ((phys & (size - 1)) == 0) {
                    old = pm.compareAndExchange(phys, size, acc, src & m) & m;
                } else {
                    synchronized (pm.lockedSplit()) {
                        old = mmu.read(in.segment, off, size);
                        mmu.write(in.segment, off, size, old == acc ? src : old);
                    }
                }
            } else {
                old = cpu.mmu.read(in.segment, off, size);
                // The destination is written either way (with its own value when the comparison fails).
                cpu.mmu.write(in.segment, off, size, old == acc ? src : old);
            }
        }
        alu(7, acc, old, size);
        if (old != acc) Operands.writeReg(cpu, in, 0, size, old);
    }

    private void cmpxchg8b(Insn in) {
        long off = Operands.effectiveOffset(cpu, in);
        long expected = (s.gpr[CpuState.RDX] & 0xFFFF_FFFFL) << 32 | (s.gpr[0] & 0xFFFF_FFFFL);
        long update = (s.gpr[CpuState.RCX] & 0xFFFF_FFFFL) << 32 | (s.gpr[CpuState.RBX] & 0xFFFF_FFFFL);
        Mmu mmu = cpu.mmu;
        long phys = mmu.translate(in.segment, off, 8, Mmu.WRITE);
        PhysicalMemory pm = mmu.physical();
        long old;
        if ((phys & 7) == 0) {
            old = pm.compareAndExchange(phys, 8, expected, update);
        } else {
            synchronized (pm.lockedSplit()) {
                old = mmu.read(in.segment, off, 8);
                mmu.write(in.segment, off, 8, old == expected ? update : old);
            }
        }
        if (old == expected) {
            Flags.setSome(s.flags, Flags.ZF, Flags.ZF);
        } else {
            Flags.setSome(s.flags, Flags.ZF, 0);
            s.gpr[0] = old & 0xFFFF_FFFFL;
            s.gpr[CpuState.RDX] = old >>> 32;
        }
    }

    /** CMPXCHG16B: #GP(0) unless 16-byte aligned (SDM Vol. 2A CMPXCHG8B/CMPXCHG16B). */
    private void cmpxchg16b(Insn in) {
        long off = Operands.effectiveOffset(cpu, in);
        if (((off + segmentBase(in)) & 15) != 0) throw cpu.ex.raise(CpuException.GP, 0);
        Mmu mmu = cpu.mmu;
        PhysicalMemory pm = mmu.physical();
        long lo, hi;
        synchronized (pm.lockedSplit()) {
            mmu.translate(in.segment, off, 8, Mmu.WRITE);
            mmu.translate(in.segment, off + 8, 8, Mmu.WRITE);
            lo = mmu.read(in.segment, off, 8);
            hi = mmu.read(in.segment, off + 8, 8);
            boolean eq = lo == s.gpr[0] && hi == s.gpr[CpuState.RDX];
            if (eq) {
                mmu.write(in.segment, off, 8, s.gpr[CpuState.RBX]);
                mmu.write(in.segment, off + 8, 8, s.gpr[CpuState.RCX]);
            } else {
                mmu.write(in.segment, off, 8, lo);
                mmu.write(in.segment, off + 8, 8, hi);
            }
            VarHandle.fullFence();
            if (eq) {
                Flags.setSome(s.flags, Flags.ZF, Flags.ZF);
                return;
            }
        }
        Flags.setSome(s.flags, Flags.ZF, 0);
        s.gpr[0] = lo;
        s.gpr[CpuState.RDX] = hi;
    }

    /** Base of the instruction's segment as used for alignment checks (0 for CS/DS/ES/SS in 64-bit mode). */
    long segmentBase(Insn in) {
        if (in.mode == Decoder.MODE64 && in.segment < CpuState.FS) return 0;
        return s.segBase[in.segment];
    }

    private void bswap(Insn in) {
        long v = s.gpr[in.rm];
        switch (in.size) {
            case 8 -> s.gpr[in.rm] = Long.reverseBytes(v);
            case 4 -> s.gpr[in.rm] = Integer.reverseBytes((int) v) & 0xFFFF_FFFFL;
            default -> s.gpr[in.rm] = v & ~0xFFFFL; // 16-bit BSWAP is undefined; hardware and QEMU give 0
        }
    }

    // ------------------------------------------------------------------ multiply / divide

    private void mul(Insn in) {
        int size = in.size;
        long b = Operands.readRm(cpu, in, size);
        long[] g = s.gpr;
        switch (size) {
            case 1 -> {
                long r = (g[0] & 0xFF) * b;
                g[0] = (g[0] & ~0xFFFFL) | (r & 0xFFFF);
                Flags.record(s.flags, Flags.MUL, 0, r & 0xFF00, r, 1);
            }
            case 2 -> {
                long r = (g[0] & 0xFFFF) * b;
                g[0] = (g[0] & ~0xFFFFL) | (r & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | ((r >>> 16) & 0xFFFF);
                Flags.record(s.flags, Flags.MUL, 0, (r >>> 16) & 0xFFFF, r, 2);
            }
            case 4 -> {
                long r = (g[0] & 0xFFFF_FFFFL) * b;
                g[0] = r & 0xFFFF_FFFFL;
                g[2] = r >>> 32;
                Flags.record(s.flags, Flags.MUL, 0, r >>> 32, r, 4);
            }
            default -> {
                long a = g[0];
                long lo = a * b;
                long hi = Math.unsignedMultiplyHigh(a, b);
                g[0] = lo;
                g[2] = hi;
                Flags.record(s.flags, Flags.MUL, 0, hi, lo, 8);
            }
        }
    }

    private void imul1(Insn in) {
        int size = in.size;
        long b = signExtend(Operands.readRm(cpu, in, size), size);
        long[] g = s.gpr;
        switch (size) {
            case 1 -> {
                long r = (byte) g[0] * b;
                g[0] = (g[0] & ~0xFFFFL) | (r & 0xFFFF);
                Flags.record(s.flags, Flags.MUL, 0, r != (byte) r ? 1 : 0, r, 1);
            }
            case 2 -> {
                long r = (short) g[0] * b;
                g[0] = (g[0] & ~0xFFFFL) | (r & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | ((r >>> 16) & 0xFFFF);
                Flags.record(s.flags, Flags.MUL, 0, r != (short) r ? 1 : 0, r, 2);
            }
            case 4 -> {
                long r = (int) g[0] * b;
                g[0] = r & 0xFFFF_FFFFL;
                g[2] = (r >>> 32) & 0xFFFF_FFFFL;
                Flags.record(s.flags, Flags.MUL, 0, r != (int) r ? 1 : 0, r, 4);
            }
            default -> {
                long a = g[0];
                long lo = a * b;
                long hi = Math.multiplyHigh(a, b);
                g[0] = lo;
                g[2] = hi;
                Flags.record(s.flags, Flags.MUL, 0, hi != (lo >> 63) ? 1 : 0, lo, 8);
            }
        }
    }

    /** IMUL r, r/m and IMUL r, r/m, imm: truncated product, CF = OF = significant bits lost. */
    private void imul2(Insn in, long a, long b) {
        int size = in.size;
        long x = signExtend(a, size), y = signExtend(b, size);
        long r = x * y;
        boolean overflow;
        if (size == 8) overflow = Math.multiplyHigh(x, y) != (r >> 63);
        else overflow = r != signExtend(r, size);
        Flags.record(s.flags, Flags.MUL, 0, overflow ? 1 : 0, r, size);
        Operands.writeReg(cpu, in, in.reg, size, r);
    }

    private CpuException divideError() {
        return cpu.ex.raise(CpuException.DE, CpuException.NO_ERROR_CODE);
    }

    /** DIV: #DE on a zero divisor or a quotient that does not fit (SDM Vol. 2A DIV); flags unchanged (undefined). */
    void div(Insn in) {
        int size = in.size;
        long d = Operands.readRm(cpu, in, size);
        if (d == 0) throw divideError();
        long[] g = s.gpr;
        switch (size) {
            case 1 -> {
                long n = g[0] & 0xFFFF;
                long q = n / d, r = n % d;
                if (q > 0xFF) throw divideError();
                g[0] = (g[0] & ~0xFFFFL) | r << 8 | q;
            }
            case 2 -> {
                long n = (g[2] & 0xFFFF) << 16 | (g[0] & 0xFFFF);
                long q = n / d, r = n % d;
                if (q > 0xFFFF) throw divideError();
                g[0] = (g[0] & ~0xFFFFL) | q;
                g[2] = (g[2] & ~0xFFFFL) | r;
            }
            case 4 -> {
                long n = (g[2] & 0xFFFF_FFFFL) << 32 | (g[0] & 0xFFFF_FFFFL);
                long q = Long.divideUnsigned(n, d), r = Long.remainderUnsigned(n, d);
                if ((q >>> 32) != 0) throw divideError();
                g[0] = q;
                g[2] = r;
            }
            default -> {
                long hi = g[2], lo = g[0];
                if (Long.compareUnsigned(hi, d) >= 0) throw divideError();
                if (hi == 0) {
                    g[0] = Long.divideUnsigned(lo, d);
                    g[2] = Long.remainderUnsigned(lo, d);
                } else {
                    long q = Divide128.quotient(hi, lo, d);
                    g[0] = q;
                    g[2] = lo - q * d;
                }
            }
        }
    }

    void idiv(Insn in) {
        int size = in.size;
        long d = signExtend(Operands.readRm(cpu, in, size), size);
        if (d == 0) throw divideError();
        long[] g = s.gpr;
        switch (size) {
            case 1 -> {
                long n = (short) g[0];
                long q = n / d, r = n % d;
                if (q != (byte) q) throw divideError();
                g[0] = (g[0] & ~0xFFFFL) | (r & 0xFF) << 8 | (q & 0xFF);
            }
            case 2 -> {
                long n = (int) ((g[2] & 0xFFFF) << 16 | (g[0] & 0xFFFF));
                long q = n / d, r = n % d;
                if (q != (short) q) throw divideError();
                g[0] = (g[0] & ~0xFFFFL) | (q & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | (r & 0xFFFF);
            }
            case 4 -> {
                long n = (g[2] & 0xFFFF_FFFFL) << 32 | (g[0] & 0xFFFF_FFFFL);
                if (n == Long.MIN_VALUE && d == -1) throw divideError();
                long q = n / d, r = n % d;
                if (q != (int) q) throw divideError();
                g[0] = q & 0xFFFF_FFFFL;
                g[2] = r & 0xFFFF_FFFFL;
            }
            default -> {
                long hi = g[2], lo = g[0];
                if (hi == lo >> 63) {
                    // The dividend fits 64 bits (CQO before IDIV, the common case): Java's division, whose
                    // only overflow is MIN_VALUE / -1.
                    if (lo == Long.MIN_VALUE && d == -1) throw divideError();
                    g[0] = lo / d;
                    g[2] = lo % d;
                    return;
                }
                boolean negN = hi < 0;
                if (negN) { // two's complement negate the 128-bit dividend
                    lo = -lo;
                    hi = ~hi + (lo == 0 ? 1 : 0);
                }
                boolean negD = d < 0;
                long ad = negD ? -d : d;
                if (Long.compareUnsigned(hi, ad) >= 0) throw divideError();
                long q = Divide128.quotient(hi, lo, ad), r = lo - q * ad;
                boolean negQ = negN != negD;
                // |quotient| must fit: at most 2^63 - 1, or 2^63 when negative.
                if (negQ ? Long.compareUnsigned(q, Long.MIN_VALUE) > 0 : q < 0) throw divideError();
                g[0] = negQ ? -q : q;
                g[2] = negN ? -r : r;
            }
        }
    }

    // ------------------------------------------------------------------ shifts and rotates

    private void shiftRm(Insn in, int count) {
        int size = in.size;
        // The count is masked to 5 bits (6 with a 64-bit operand) (SDM Vol. 2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR).
        count &= size == 8 ? 0x3F : 0x1F;
        if (count == 0) {
            // No flags change, but a 32-bit register operand is still written (zero-extended), as hardware does.
            if (in.mod == 3 && size == 4) s.gpr[in.rm] &= 0xFFFF_FFFFL;
            return;
        }
        if (in.mod == 3) {
            Operands.writeReg(cpu, in, in.rm, size, shift(in.ext, Operands.readReg(cpu, in, in.rm, size), count, size));
        } else {
            long off = Operands.effectiveOffset(cpu, in);
            long v = cpu.mmu.read(in.segment, off, size);
            cpu.mmu.write(in.segment, off, size, shift(in.ext, v, count, size));
        }
    }

    /** One shift or rotate of {@code v} (zero-extended) by a masked, non-zero {@code count}. */
    private long shift(int kind, long v, int count, int size) {
        int bits = size << 3;
        long m = Flags.mask(size);
        long sign = Flags.signBit(size);
        LazyFlags f = s.flags;
        switch (kind) {
            case 0: { // ROL: CF = LSB of result, OF = MSB ^ CF
                int c = count & (bits - 1);
                long r = c == 0 ? v : ((v << c) | (v >>> (bits - c))) & m;
                long cf = r & 1;
                long of = ((r & sign) != 0 ? 1 : 0) ^ cf;
                Flags.setSome(f, Flags.CF | Flags.OF, cf | of << 11);
                return r;
            }
            case 1: { // ROR: CF = MSB of result, OF = MSB ^ next bit
                int c = count & (bits - 1);
                long r = c == 0 ? v : ((v >>> c) | (v << (bits - c))) & m;
                long cf = (r & sign) != 0 ? 1 : 0;
                long of = cf ^ ((r & (sign >>> 1)) != 0 ? 1 : 0);
                Flags.setSome(f, Flags.CF | Flags.OF, cf | of << 11);
                return r;
            }
            case 2: { // RCL through CF: bits+1 wide rotate
                int c = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
                if (c == 0) return v;
                long cin = Flags.cf(f);
                long r, cf;
                // Bit shifted into CF is bit (bits - c) of v.
                cf = (v >>> (bits - c)) & 1;
                long left = c == bits ? 0 : v << c;
                long carryPart = cin << (c - 1);
                long right = c == 1 ? 0 : v >>> (bits - c + 1);
                r = (left | carryPart | right) & m;
                long of = ((v ^ r) & sign) != 0 ? 1 : 0;
                Flags.setSome(f, Flags.CF | Flags.OF, cf | of << 11);
                return r;
            }
            case 3: { // RCR
                int c = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
                if (c == 0) return v;
                long cin = Flags.cf(f);
                long cf = (v >>> (c - 1)) & 1;
                long right = v >>> c;
                long carryPart = cin << (bits - c);
                long left = c == 1 ? 0 : v << (bits - c + 1);
                long r = (right | carryPart | left) & m;
                long of = ((v ^ r) & sign) != 0 ? 1 : 0;
                Flags.setSome(f, Flags.CF | Flags.OF, cf | of << 11);
                return r;
            }
            case 4, 6: { // SHL/SAL
                long src = count - 1 >= bits ? 0 : v << (count - 1);
                long r = count >= bits ? 0 : (v << count) & m;
                Flags.record(f, Flags.SHL, v, src, r, size);
                return r;
            }
            case 5: { // SHR
                long src = count - 1 >= bits ? 0 : v >>> (count - 1);
                long r = count >= bits ? 0 : v >>> count;
                Flags.record(f, Flags.SHR, v, src, r, size);
                return r;
            }
            default: { // SAR
                long x = signExtend(v, size);
                int c1 = Math.min(count - 1, 63);
                long src = x >> c1;
                long r = (x >> Math.min(count, 63)) & m;
                Flags.record(f, Flags.SAR, v, src, r, size);
                return r;
            }
        }
    }

    /** SHLD/SHRD (SDM Vol. 2B); a 16-bit count above 16 shifts dst:src:dst, as Intel CPUs and QEMU do. */
    private void shiftDouble(Insn in, int count, boolean left) {
        int size = in.size;
        count &= size == 8 ? 0x3F : 0x1F;
        if (count == 0) {
            if (in.mod == 3 && size == 4) s.gpr[in.rm] &= 0xFFFF_FFFFL;
            return;
        }
        long src = Operands.readReg(cpu, in, in.reg, size);
        long off = in.mod == 3 ? 0 : Operands.effectiveOffset(cpu, in);
        long dst = in.mod == 3 ? Operands.readReg(cpu, in, in.rm, size) : cpu.mmu.read(in.segment, off, size);
        int bits = size << 3;
        long m = Flags.mask(size);
        long r, tmp;
        if (size == 2) {
            if (left) {
                long x = dst << 32 | src << 16 | dst;
                r = (x << count >>> 32) & m;
                tmp = (x << (count - 1) >>> 32) & m;
            } else {
                long x = dst | src << 16 | dst << 32;
                r = (x >>> count) & m;
                tmp = (x >>> (count - 1)) & m;
            }
        } else if (left) {
            r = ((dst << count) | (src >>> (bits - count))) & m;
            tmp = count == 1 ? dst : ((dst << (count - 1)) | (src >>> (bits - count + 1))) & m;
        } else {
            r = ((dst >>> count) | (src << (bits - count))) & m;
            // OF for counts above 1 is undefined; QEMU TCG derives it from dst alone for 64-bit operands.
            if (size == 8) tmp = dst >>> (count - 1);
            else tmp = count == 1 ? dst : ((dst >>> (count - 1)) | (src << (bits - count + 1))) & m;
        }
        Flags.record(s.flags, left ? Flags.SHL : Flags.SHR, dst, tmp, r, size);
        if (in.mod == 3) Operands.writeReg(cpu, in, in.rm, size, r);
        else cpu.mmu.write(in.segment, off, size, r);
    }

    // ------------------------------------------------------------------ bit operations

    /**
     * BT/BTS/BTR/BTC (SDM Vol. 2A BT): with a register bit offset and a memory operand the offset
     * selects any bit relative to the address (signed); CF = the bit; ZF unchanged; OF, SF, AF, PF undefined (kept).
     */
    private void bitTest(Insn in, int op, long offsetValue, boolean registerOffset) {
        int size = in.size;
        int bits = size << 3;
        long bit;
        long v;
        if (in.mod == 3) {
            bit = offsetValue & (bits - 1);
            v = Operands.readReg(cpu, in, in.rm, size);
            long mask = 1L << bit;
            Flags.setSome(s.flags, Flags.CF, (v & mask) != 0 ? 1 : 0);
            switch (op) {
                case 5 -> Operands.writeReg(cpu, in, in.rm, size, v | mask);
                case 6 -> Operands.writeReg(cpu, in, in.rm, size, v & ~mask);
                case 7 -> Operands.writeReg(cpu, in, in.rm, size, v ^ mask);
                default -> { }
            }
            return;
        }
        long off = Operands.effectiveOffset(cpu, in);
        if (registerOffset) {
            long sx = signExtend(offsetValue, size);
            off = (off + (sx >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * size) & Operands.addressMask(in.addrSize);
            bit = sx & (bits - 1);
        } else {
            bit = offsetValue & (bits - 1);
        }
        long mask = 1L << bit;
        if (op != 4 && locked(in)) {
            long old = lockedRmwAt(in.segment, off, size, RMW_BTS + (op - 5), mask);
            Flags.setSome(s.flags, Flags.CF, (old & mask) != 0 ? 1 : 0);
            return;
        }
        v = cpu.mmu.read(in.segment, off, size);
        Flags.setSome(s.flags, Flags.CF, (v & mask) != 0 ? 1 : 0);
        switch (op) {
            case 5 -> cpu.mmu.write(in.segment, off, size, v | mask);
            case 6 -> cpu.mmu.write(in.segment, off, size, v & ~mask);
            case 7 -> cpu.mmu.write(in.segment, off, size, v ^ mask);
            default -> { }
        }
    }

    private void bitScan(Insn in) {
        int size = in.size;
        int bits = size << 3;
        long v = Operands.readRm(cpu, in, size);
        LazyFlags f = s.flags;
        switch (in.handler) {
            case Handler.BSF, Handler.BSR -> {
                // ZF = source is zero, destination then unchanged (SDM: undefined; hardware and QEMU keep it);
                // the other flags are undefined: QEMU's are those of a logic operation on the source.
                Flags.record(f, Flags.LOGIC, 0, 0, v, size);
                if (v != 0) {
                    long idx = in.handler == Handler.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
                    Operands.writeReg(cpu, in, in.reg, size, idx);
                } else if (size == 4) {
                    s.gpr[in.reg] &= 0xFFFF_FFFFL;
                }
            }
            case Handler.TZCNT, Handler.LZCNT -> {
                long r = v == 0 ? bits
                        : in.handler == Handler.TZCNT ? Long.numberOfTrailingZeros(v) : Long.numberOfLeadingZeros(v) - (64 - bits);
                Flags.setSome(f, Flags.ARITH, (v == 0 ? Flags.CF : 0) | (r == 0 ? Flags.ZF : 0));
                Operands.writeReg(cpu, in, in.reg, size, r);
            }
            default -> { // POPCNT: all flags cleared but ZF = (source == 0)
                long r = Long.bitCount(v);
                Flags.setSome(f, Flags.ARITH, v == 0 ? Flags.ZF : 0);
                Operands.writeReg(cpu, in, in.reg, size, r);
            }
        }
    }

    // ------------------------------------------------------------------ stack

    /** Stack address size: 8 in 64-bit mode, else SS.B (SDM Vol. 3 §3.4.5.1). */
    private int stackSize() {
        if ((s.efer & EFER_LMA) != 0 && (s.segAttr[CpuState.CS] & CpuState.ATTR_L) != 0) return 8;
        return (s.segAttr[CpuState.SS] & CpuState.ATTR_DB) != 0 ? 4 : 2;
    }

    void push(long value, int size) {
        long rsp = s.gpr[CpuState.RSP];
        int ss = stackSize();
        if (ss == 8) {
            long n = rsp - size;
            cpu.mmu.write(CpuState.SS, n, size, value);
            s.gpr[CpuState.RSP] = n;
        } else if (ss == 4) {
            long n = (rsp - size) & 0xFFFF_FFFFL;
            cpu.mmu.write(CpuState.SS, n, size, value);
            s.gpr[CpuState.RSP] = n;
        } else {
            long n = (rsp - size) & 0xFFFF;
            cpu.mmu.write(CpuState.SS, n, size, value);
            s.gpr[CpuState.RSP] = (rsp & ~0xFFFFL) | n;
        }
    }

    long pop(int size) {
        long rsp = s.gpr[CpuState.RSP];
        int ss = stackSize();
        long v;
        if (ss == 8) {
            v = cpu.mmu.read(CpuState.SS, rsp, size);
            s.gpr[CpuState.RSP] = rsp + size;
        } else if (ss == 4) {
            v = cpu.mmu.read(CpuState.SS, rsp & 0xFFFF_FFFFL, size);
            s.gpr[CpuState.RSP] = (rsp + size) & 0xFFFF_FFFFL;
        } else {
            v = cpu.mmu.read(CpuState.SS, rsp & 0xFFFF, size);
            s.gpr[CpuState.RSP] = (rsp & ~0xFFFFL) | ((rsp + size) & 0xFFFF);
        }
        return v;
    }

    private void addStack(long n) {
        long rsp = s.gpr[CpuState.RSP];
        int ss = stackSize();
        if (ss == 8) s.gpr[CpuState.RSP] = rsp + n;
        else if (ss == 4) s.gpr[CpuState.RSP] = (rsp + n) & 0xFFFF_FFFFL;
        else s.gpr[CpuState.RSP] = (rsp & ~0xFFFFL) | ((rsp + n) & 0xFFFF);
    }

    /** POP r/m: with RSP as a base the address is computed after RSP was incremented (SDM Vol. 2B POP). */
    private void popRm(Insn in) {
        long oldRsp = s.gpr[CpuState.RSP];
        long v = pop(in.size);
        if (in.mod == 3) {
            Operands.writeReg(cpu, in, in.rm, in.size, v);
            return;
        }
        try {
            Operands.writeRm(cpu, in, in.size, v);
        } catch (CpuException e) {
            s.gpr[CpuState.RSP] = oldRsp;
            throw e;
        }
    }

    private void enter(Insn in) {
        int size = in.size;
        int ss = stackSize();
        long alloc = in.imm & 0xFFFF;
        int level = (int) (in.imm2 & 0x1F);
        long oldRsp = s.gpr[CpuState.RSP], oldRbp = s.gpr[CpuState.RBP];
        try {
            push(s.gpr[CpuState.RBP], size);
            long frame = s.gpr[CpuState.RSP];
            if (level > 0) {
                long rbp = s.gpr[CpuState.RBP];
                for (int i = 1; i < level; i++) {
                    rbp = (rbp - size) & Operands.addressMask(ss);
                    push(cpu.mmu.read(CpuState.SS, rbp, size), size);
                }
                push(frame, size);
            }
            if (size == 2) s.gpr[CpuState.RBP] = (s.gpr[CpuState.RBP] & ~0xFFFFL) | (frame & 0xFFFF);
            else if (ss == 8 || size == 8) s.gpr[CpuState.RBP] = frame;
            else s.gpr[CpuState.RBP] = frame & 0xFFFF_FFFFL;
            // The final stack pointer must be writable (SDM: ENTER checks the whole new frame).
            long newRsp = s.gpr[CpuState.RSP] - alloc;
            if (ss != 8) newRsp &= Operands.addressMask(ss);
            if (alloc != 0) cpu.mmu.write(CpuState.SS, newRsp, 1, cpu.mmu.read(CpuState.SS, newRsp, 1));
            addStack(-alloc);
        } catch (CpuException e) {
            s.gpr[CpuState.RSP] = oldRsp;
            s.gpr[CpuState.RBP] = oldRbp;
            throw e;
        }
    }

    private void leave(Insn in) {
        int ss = stackSize();
        long rbp = s.gpr[CpuState.RBP];
        long oldRsp = s.gpr[CpuState.RSP];
        if (ss == 8) s.gpr[CpuState.RSP] = rbp;
        else if (ss == 4) s.gpr[CpuState.RSP] = rbp & 0xFFFF_FFFFL;
        else s.gpr[CpuState.RSP] = (oldRsp & ~0xFFFFL) | (rbp & 0xFFFF);
        try {
            long v = pop(in.size);
            Operands.writeReg(cpu, in, CpuState.RBP, in.size, v);
        } catch (CpuException e) {
            s.gpr[CpuState.RSP] = oldRsp;
            throw e;
        }
    }

    private void pusha(Insn in) {
        int size = in.size;
        long oldRsp = s.gpr[CpuState.RSP];
        try {
            for (int r = 0; r < 8; r++) push(r == CpuState.RSP ? oldRsp : s.gpr[r], size);
        } catch (CpuException e) {
            s.gpr[CpuState.RSP] = oldRsp;
            throw e;
        }
    }

    private void popa(Insn in) {
        int size = in.size;
        long oldRsp = s.gpr[CpuState.RSP];
        long[] v = popaScratch;
        try {
            for (int r = 7; r >= 0; r--) v[r] = pop(size);
        } catch (CpuException e) {
            s.gpr[CpuState.RSP] = oldRsp;
            throw e;
        }
        for (int r = 0; r < 8; r++) if (r != CpuState.RSP) Operands.writeReg(cpu, in, r, size, v[r]);
    }

    private final long[] popaScratch = new long[8];

    private void loop(Insn in) {
        long mask = Operands.addressMask(in.addrSize);
        long c = (s.gpr[CpuState.RCX] - 1) & mask;
        if (in.addrSize == 8) s.gpr[CpuState.RCX] = c;
        else if (in.addrSize == 4) s.gpr[CpuState.RCX] = c;
        else s.gpr[CpuState.RCX] = (s.gpr[CpuState.RCX] & ~0xFFFFL) | c;
        boolean take = c != 0;
        if (take && in.handler == Handler.LOOPE) take = Flags.zf(s.flags) != 0;
        else if (take && in.handler == Handler.LOOPNE) take = Flags.zf(s.flags) == 0;
        if (take) jump(in, s.rip + in.imm);
    }

    private void cbw(Insn in) {
        long[] g = s.gpr;
        switch (in.size) {
            case 2 -> g[0] = (g[0] & ~0xFFFFL) | ((byte) g[0] & 0xFFFF);
            case 4 -> g[0] = (short) g[0] & 0xFFFF_FFFFL;
            default -> g[0] = (int) g[0];
        }
    }

    private void cwd(Insn in) {
        long[] g = s.gpr;
        switch (in.size) {
            case 2 -> g[2] = (g[2] & ~0xFFFFL) | ((short) g[0] < 0 ? 0xFFFF : 0);
            case 4 -> g[2] = (int) g[0] < 0 ? 0xFFFF_FFFFL : 0;
            default -> g[2] = g[0] >> 63;
        }
    }

    // ------------------------------------------------------------------ string instructions

    /**
     * MOVS/CMPS/STOS/LODS/SCAS with optional REP/REPE/REPNE (SDM Vol. 2B "REP/REPE/..."): each
     * iteration completes (registers updated) before the next, so a fault leaves a restartable
     * state; after {@link #REP_CHUNK} iterations the instruction yields with RIP still on it.
     */
    private void string(Insn in) {
        int size = in.size;
        int as = in.addrSize;
        long amask = Operands.addressMask(as);
        long delta = (s.rflagsRest & Flags.DF) != 0 ? -size : size;
        boolean rep = (in.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0;
        int h = in.handler;
        Mmu mmu = cpu.mmu;
        long[] g = s.gpr;
        if (!rep) {
            stringOnce(in, h, size, amask, delta, mmu, g);
            return;
        }
        boolean cmp = h == Handler.CMPS || h == Handler.SCAS;
        boolean repne = (in.prefixes & Insn.P_REPNE) != 0;
        // With data breakpoints armed, an iteration that hit one ends the execution: the #DB trap comes
        // after that iteration, with RIP still on the instruction (SDM Vol. 3B §17.3.1.2, §17.3.1.1).
        DebugRegisters debug = cpu.debug;
        boolean watched = debug.dataArmed;
        for (int n = 0; ; n++) {
            long count = g[CpuState.RCX] & amask;
            if (count == 0) return;
            if (n == REP_CHUNK || watched && debug.hits != 0) {
                s.rip = (s.rip - in.length) & ripMask(in.mode); // yield; resumes here (the decoder ends the block at REP)
                return;
            }
            stringOnce(in, h, size, amask, delta, mmu, g);
            setMasked(CpuState.RCX, count - 1, as);
            if (cmp) {
                boolean zf = Flags.zf(s.flags) != 0;
                if (repne ? zf : !zf) return;
            }
        }
    }

    private void setMasked(int reg, long value, int as) {
        long[] g = s.gpr;
        if (as == 8) g[reg] = value;
        else if (as == 4) g[reg] = value & 0xFFFF_FFFFL;
        else g[reg] = (g[reg] & ~0xFFFFL) | (value & 0xFFFF);
    }

    private void stringOnce(Insn in, int h, int size, long amask, long delta, Mmu mmu, long[] g) {
        int as = in.addrSize;
        switch (h) {
            case Handler.MOVS -> {
                long v = mmu.read(in.segment, g[CpuState.RSI] & amask, size);
                mmu.write(CpuState.ES, g[CpuState.RDI] & amask, size, v);
                setMasked(CpuState.RSI, g[CpuState.RSI] + delta, as);
                setMasked(CpuState.RDI, g[CpuState.RDI] + delta, as);
            }
            case Handler.STOS -> {
                mmu.write(CpuState.ES, g[CpuState.RDI] & amask, size, g[0]);
                setMasked(CpuState.RDI, g[CpuState.RDI] + delta, as);
            }
            case Handler.LODS -> {
                long v = mmu.read(in.segment, g[CpuState.RSI] & amask, size);
                Operands.writeReg(cpu, in, 0, size, v);
                setMasked(CpuState.RSI, g[CpuState.RSI] + delta, as);
            }
            case Handler.CMPS -> {
                long a = mmu.read(in.segment, g[CpuState.RSI] & amask, size);
                long b = mmu.read(CpuState.ES, g[CpuState.RDI] & amask, size);
                alu(7, a, b, size);
                setMasked(CpuState.RSI, g[CpuState.RSI] + delta, as);
                setMasked(CpuState.RDI, g[CpuState.RDI] + delta, as);
            }
            default -> { // SCAS
                long b = mmu.read(CpuState.ES, g[CpuState.RDI] & amask, size);
                alu(7, g[0] & Flags.mask(size), b, size);
                setMasked(CpuState.RDI, g[CpuState.RDI] + delta, as);
            }
        }
    }

    // ------------------------------------------------------------------ BCD (legacy modes only)

    private void bcd(Insn in) {
        long[] g = s.gpr;
        LazyFlags f = s.flags;
        long al = g[0] & 0xFF;
        long ah = (g[0] >>> 8) & 0xFF;
        long cf = Flags.cf(f), af = Flags.af(f);
        switch (in.handler) {
            case Handler.DAA, Handler.DAS -> { // SDM Vol. 2A DAA/DAS pseudo-code
                boolean add = in.handler == Handler.DAA;
                long oldAl = al, newCf = 0, newAf = 0;
                if ((al & 0xF) > 9 || af != 0) {
                    long t = add ? al + 6 : al - 6;
                    newCf = cf | ((t & ~0xFFL) != 0 ? 1 : 0);
                    al = t & 0xFF;
                    newAf = Flags.AF;
                }
                if (oldAl > 0x99 || cf != 0) {
                    al = (add ? al + 0x60 : al - 0x60) & 0xFF;
                    newCf = 1;
                } else if (add) {
                    newCf = 0; // DAA's second step clears CF; DAS's leaves the first step's borrow
                }
                g[0] = (g[0] & ~0xFFL) | al;
                Flags.setSome(f, Flags.ARITH, newCf | newAf | szp(al));
            }
            case Handler.AAA, Handler.AAS -> {
                boolean add = in.handler == Handler.AAA;
                if ((al & 0xF) > 9 || af != 0) {
                    long ax = g[0] & 0xFFFF;
                    if (add) { ax += 0x106; } else { ax = (ax - 6) & 0xFFFF; ax = (ax - 0x100) & 0xFFFF; }
                    ax = (ax & 0xFF00) | (ax & 0x0F);
                    g[0] = (g[0] & ~0xFFFFL) | (ax & 0xFFFF);
                    Flags.setSome(f, Flags.ARITH, Flags.AF | Flags.CF | szp(ax & 0xFF));
                } else {
                    g[0] = (g[0] & ~0xFFL) | (al & 0x0F);
                    Flags.setSome(f, Flags.ARITH, szp(al & 0x0F));
                }
            }
            case Handler.AAM -> {
                long base = in.imm & 0xFF;
                if (base == 0) throw divideError();
                long q = al / base, r = al % base;
                g[0] = (g[0] & ~0xFFFFL) | q << 8 | r;
                Flags.setSome(f, Flags.ARITH, szp(r));
            }
            case Handler.AAD -> {
                long base = in.imm & 0xFF;
                long r = (al + ah * base) & 0xFF;
                g[0] = (g[0] & ~0xFFFFL) | r;
                Flags.setSome(f, Flags.ARITH, szp(r));
            }
            default -> g[0] = (g[0] & ~0xFFL) | (cf != 0 ? 0xFF : 0); // SALC
        }
    }

    private static long szp(long v8) {
        long r = 0;
        if ((v8 & 0xFF) == 0) r |= Flags.ZF;
        if ((v8 & 0x80) != 0) r |= Flags.SF;
        if ((Integer.bitCount((int) v8 & 0xFF) & 1) == 0) r |= Flags.PF;
        return r;
    }

    // ------------------------------------------------------------------ x87 control (no arithmetic)

    private void x87(Insn in) {
        long cr0 = s.cr0;
        if (in.handler == Handler.FWAIT) {
            // WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM Vol. 3 §2.5, Table 2-2).
            if ((cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) throw cpu.ex.raise(CpuException.NM, CpuException.NO_ERROR_CODE);
            return;
        }
        if ((cr0 & (CR0_EM | CR0_TS)) != 0) throw cpu.ex.raise(CpuException.NM, CpuException.NO_ERROR_CODE);
        switch (in.handler) {
            case Handler.FNINIT -> {
                if (in.ext == 1) { // FNCLEX
                    s.fpuStatus &= 0x7F00;
                } else {
                    s.fpuControl = 0x037F;
                    s.fpuStatus = 0;
                    s.fpuTagWord = 0; // abridged tag: all empty
                }
            }
            case Handler.FNSTSW -> {
                if (in.ext == 1) s.gpr[0] = (s.gpr[0] & ~0xFFFFL) | (s.fpuStatus & 0xFFFF);
                else Operands.writeRm(cpu, in, 2, s.fpuStatus);
            }
            case Handler.FNSTCW -> Operands.writeRm(cpu, in, 2, s.fpuControl);
            default -> s.fpuControl = (int) Operands.readRm(cpu, in, 2) & 0xFFFF; // FLDCW
        }
    }
}
