package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.emulated.time.GuestClock;

/**
 * One emulated x86-64 processor: its state, MMU, executor, and the run loop that delivers
 * NMI/INIT/SIPI and external interrupts, runs decoded blocks, delivers exceptions, sleeps while
 * halted and returns to the backend on an exit ({@link CpuExit}).
 *
 * <p>Threading: {@link #run} and {@link #step} run on the vCPU's own thread; other threads talk to
 * it only through {@link #events} (and the LAPIC, which posts events).
 *
 * <p>Exits: port output and posted MMIO writes record {@link #exit} and post {@link CpuEvents#SELF},
 * so the executor returns at the end of the block (every system instruction ends one). Port input
 * records the exit the same way and {@link #completeIn} writes AL/AX/EAX before the next run (as
 * KVM's {@code complete_pio}). MMIO reads and INS throw {@link CpuException#VMM_EXIT} before
 * anything is committed; the next run re-executes the instruction first, serving that one read
 * from the value the backend supplied.
 */
public final class X86Cpu {
    /** Instructions per executor call between checks of the LAPIC timer deadline. */
    private static final long BUDGET = 20_000;

    public final int index;
    public final CpuState s = new CpuState();
    /** The per-vCPU reusable exception instance: {@code throw cpu.ex.raise(CpuException.GP, 0)}. */
    public final CpuException ex = new CpuException();
    public final PhysicalMemory memory;
    public final Mmu mmu;
    public final SystemInstructions system;
    /** This vCPU's local APIC; null in tests without one (no interrupts, no LAPIC page). */
    public final InterruptController apic;
    public final CpuEvents events;
    public final GuestClock clock;
    public final CpuidSource cpuid;
    public final InterruptDelivery interrupts;
    public final Executor executor;
    /** DR0-DR3 under DR7: the armed hardware breakpoints (SDM Vol. 3B §17.2). */
    public final DebugRegisters debug;
    /** Why the last {@link #run} returned. */
    public final CpuExit exit = new CpuExit();

    /** An exit is recorded and {@code run} must return it before executing further. */
    boolean exitPending;
    /** An NMI arrived and is not delivered yet (held while {@link CpuState#nmiBlocked}). */
    boolean nmiPending;
    /** PORT_IN exit outstanding: {@link #completeIn} writes the register. */
    private boolean inPending;
    private int inSize;
    /** A value for the one pending MMIO read / INS element, served when the instruction re-executes. */
    boolean completionReady;
    long completionValue;
    long completionAddress;
    int completionPort = -1;
    /** The instruction must re-execute before anything else (its completion is ready). */
    private boolean reexecute;

    private final int[] cpuidOut = new int[4];

    public X86Cpu(int index, PhysicalMemory memory, InterruptController apic, CpuEvents events, GuestClock clock, CpuidSource cpuid) {
        this.index = index;
        this.memory = memory;
        this.apic = apic;
        this.events = events;
        this.clock = clock;
        this.cpuid = cpuid;
        this.debug = new DebugRegisters(this);
        this.mmu = new Mmu(this);
        this.system = new SystemInstructions(this);
        this.interrupts = new InterruptDelivery(this);
        int maxPhys = cpuidEax(0x8000_0000) >= 0x8000_0008 ? cpuidEax(0x8000_0008) & 0xFF : 36;
        mmu.setMaxPhysAddr(maxPhys == 0 ? 36 : maxPhys);
        this.executor = new Executor(this);
        if (cpuid != null) {
            // What the decoder makes of F3 0F BC/BD follows the advertised features (see Decoder.tzcnt).
            executor.decoder.tzcnt = cpuidEax(0) >= 7 && (cpuidRegister(7, 1) & 1 << 3) != 0;
            executor.decoder.lzcnt = cpuidEax(0x8000_0000) >= 0x8000_0001 && (cpuidRegister(0x8000_0001, 2) & 1 << 5) != 0;
        }
        PowerOn.reset(this);
        debug.update();
    }

    private int cpuidEax(int leaf) {
        return cpuidRegister(leaf, 0);
    }

    /** Register {@code r} (0 EAX, 1 EBX, 2 ECX, 3 EDX) of CPUID leaf {@code leaf}, subleaf 0. */
    private int cpuidRegister(int leaf, int r) {
        if (cpuid == null) return 0;
        cpuid.cpuid(index, leaf, 0, cpuidOut);
        return cpuidOut[r];
    }

    // ------------------------------------------------------------------ RFLAGS

    /** The whole RFLAGS: the arithmetic flags from the lazy record plus {@link CpuState#rflagsRest}. */
    public long rflags() { return Rflags.get(s); }

    /** Sets the whole RFLAGS (bit 1 forced to 1, reserved bits cleared). */
    public void setRflags(long value) { Rflags.set(s, value); }

    // ------------------------------------------------------------------ backend API

    /** Runs until an exit. Never throws: a Java exception becomes an {@link CpuExit.Kind#INTERNAL_ERROR} exit. */
    public CpuExit run() {
        try {
            return loop(false);
        } catch (RuntimeException | StackOverflowError e) {
            return internalError(e);
        }
    }

    /**
     * One instruction (or one event/interrupt/exception delivery when one is due), for single-step
     * and lockstep tests. Returns null when nothing needs the backend, else the exit.
     */
    public CpuExit step() {
        try {
            return loop(true);
        } catch (RuntimeException | StackOverflowError e) {
            return internalError(e);
        }
    }

    /** A Java exception inside the emulator: an exit naming it and where it was thrown (the emulator's bug, not the guest's). */
    private CpuExit internalError(Throwable e) {
        exit.kind = CpuExit.Kind.INTERNAL_ERROR;
        exit.address = s.rip;
        StackTraceElement[] at = e.getStackTrace();
        exit.reason = e + (at.length > 0 ? " at " + at[0] : "");
        exitPending = false;
        return exit;
    }

    /** Answers a {@link CpuExit.Kind#PORT_IN} exit: AL/AX/EAX (or the INS element) gets {@code value}. */
    public void completeIn(long value) {
        if (inPending) {
            inPending = false;
            writeAccumulator(inSize, value);
        } else {
            completionReady = true;
            completionValue = value & PhysicalMemory.mask(exit.size);
            reexecute = true;
        }
    }

    /** Answers an {@link CpuExit.Kind#MMIO_READ} exit; the instruction re-executes with this value. */
    public void completeMmioRead(long value) {
        completionReady = true;
        completionValue = value & PhysicalMemory.mask(exit.size);
        completionAddress = exit.address;
        reexecute = true;
    }

    /** Power-on/RESET state (SDM Vol. 3 §9.1.1, Table 9-1); the BSP runs, APs wait for SIPI. */
    public void reset() {
        PowerOn.reset(this);
        debug.update();
    }

    /** Multiboot 0.6.96 §3.2 machine state: flat 32-bit protected mode, paging off, EAX magic, EBX info. */
    public void setMultibootState(long entry, long multibootInfo) { PowerOn.multiboot(this, entry, multibootInfo); }

    /** The backend changed control registers or segments directly: drop cached translations. */
    public void stateChanged() {
        debug.update();
        s.cpl = s.segSelector[CpuState.CS] & 3;
        if ((s.cr0 & Mmu.CR0_PE) == 0) s.cpl = 0;
    }

    // ------------------------------------------------------------------ run loop

    private static final int ALL_EVENTS = CpuEvents.INTERRUPT | CpuEvents.NMI | CpuEvents.INIT | CpuEvents.SIPI
            | CpuEvents.KICK | CpuEvents.TIMER | CpuEvents.SELF;

    private CpuExit loop(boolean single) {
        events.bindOwner(Thread.currentThread());
        exitPending = false;
        if (reexecute) {
            reexecute = false;
            // The instruction started before (its instruction breakpoint was checked then, RF cleared).
            executeOne(false);
            completionReady = false;
            if (exitPending) return finishExit();
            if (single) return null;
        }
        while (true) {
            int ev = events.take(ALL_EVENTS);
            if (ev != 0 && handleEvents(ev)) return exit;
            if (s.activity != CpuState.Activity.RUNNING) {
                if (s.activity == CpuState.Activity.SHUTDOWN) {
                    exit.kind = CpuExit.Kind.SHUTDOWN;
                    if (exit.reason == null) exit.reason = "processor is in shutdown state";
                    return exit;
                }
                if (!wakeUp()) {
                    sleep();
                    if (single) return null;
                    continue;
                }
            }
            if (deliverPendingEvent()) {
                if (exitPending) return finishExit();
                if (single) return null;
                continue;
            }
            if (single) {
                executeOne(true);
                if (exitPending) return finishExit();
                return null;
            }
            // One instruction at a time under TF, RF (cleared after the next instruction) and armed
            // breakpoints (checked around each instruction): the executor's blocks and translations never see them.
            if (s.interruptShadow || (s.rflagsRest & (Rflags.TF | Rflags.RF)) != 0 || debug.armed) {
                executeOne(true);
            } else {
                try {
                    executor.run(BUDGET);
                } catch (CpuException e) {
                    exception(e);
                }
            }
            if (exitPending) return finishExit();
            if (apic != null) {
                long now = clock.nanos();
                if (now >= apic.nextDeadline()) apic.tick(now);
            }
        }
    }

    /**
     * One instruction, its exception delivered; the interrupt shadow it ran under ends after it.
     * With RFLAGS.TF set before it, a single-step #DB trap follows it (SDM Vol. 3 §17.3.1.4,
     * DR6.BS), unless it faulted. With breakpoints armed, an instruction breakpoint at it is a
     * #DB fault instead of executing it (unless RFLAGS.RF is set, §17.3.1.1), and data
     * breakpoints it hit are a #DB trap after it (§17.3.1.2), one #DB with single-stepping's.
     * RF is cleared once the instruction-breakpoint check is past (§17.3.1.1), before the
     * instruction runs, so IRET's RF survives it.
     */
    private void executeOne(boolean checkInstructionBreakpoint) {
        if (checkInstructionBreakpoint && debug.instructionBreakpointDue()) {
            s.dr[6] = (s.dr[6] & ~DebugRegisters.DR6_B) | debug.instructionHits();
            s.interruptShadow = false;
            interrupts.deliverException(CpuException.DB, CpuException.NO_ERROR_CODE, 0);
            return;
        }
        s.rflagsRest &= ~Rflags.RF;
        long start = s.rip;
        boolean shadow = s.interruptShadow;
        boolean singleStep = (s.rflagsRest & Rflags.TF) != 0;
        s.interruptShadow = false;
        stackLoaded = false;
        debug.hits = 0;
        try {
            executor.step();
        } catch (CpuException e) {
            exception(e);
            singleStep = false;
            debug.hits = 0;
            debug.held = 0;
        }
        if (shadow && s.interruptShadow) {
            // Two shadowing instructions in a row (STI; STI or MOV SS; MOV SS): the second does not extend it (SDM §6.8.3).
            s.interruptShadow = false;
        }
        int own = debug.hits;
        int hits = own | debug.held;
        debug.hits = 0;
        debug.held = 0;
        if (stackLoaded) {
            // MOV SS / POP SS hold the single-step trap to the boundary after the next instruction,
            // which traps (TF still set) with DR6.BS (SDM Vol. 3A §6.8.3, §17.3.1.4). STI holds only interrupts.
            // Their own data breakpoints are held there too, and reported with that instruction's #DB.
            stackLoaded = false;
            singleStep = false;
            debug.held = hits;
            hits = own = 0;
        }
        if ((singleStep || hits != 0) && s.activity != CpuState.Activity.SHUTDOWN) {
            if (singleStep) s.dr[6] |= DR6_BS;
            if (hits != 0) s.dr[6] = (s.dr[6] & ~DebugRegisters.DR6_B) | hits;
            // A trap after an iteration of a REP string instruction other than the last (RIP still on it)
            // pushes RF = 1 (SDM Vol. 3B §17.3.1.1), cleared again by the delivery.
            if (own != 0 && s.rip == start) s.rflagsRest |= Rflags.RF;
            interrupts.deliverException(CpuException.DB, CpuException.NO_ERROR_CODE, 0);
        }
    }

    /** Set by MOV SS / POP SS ({@link SystemInstructions}): the single-step trap after it is held (see {@link #executeOne}). */
    boolean stackLoaded;

    /** DR6.BS: the #DB came from single-stepping (SDM Vol. 3 §17.2.3). */
    private static final long DR6_BS = 1 << 14;

    private void exception(CpuException e) {
        if (e.vector == CpuException.VMM_EXIT) {
            interrupts.forgetSoftwareInterrupt();
            return;
        }
        interrupts.deliverException(e.vector, e.errorCode, e.faultAddress);
    }

    private CpuExit finishExit() {
        exitPending = false;
        return exit;
    }

    /** Handles posted events; returns true when {@code run} must return ({@link #exit} set). */
    private boolean handleEvents(int ev) {
        if ((ev & CpuEvents.INIT) != 0) {
            // INIT (SDM Vol. 3 §9.1, §10.4.7.3): the processor resets (most state, not MSRs in
            // general) and, as under KVM, an AP waits for SIPI; the BSP restarts at the reset vector.
            if (apic != null) apic.reset();
            PowerOn.init(this);
            debug.update();
            nmiPending = false;
        }
        if ((ev & CpuEvents.SIPI) != 0 && s.activity == CpuState.Activity.WAIT_FOR_SIPI) {
            PowerOn.sipi(this, events.sipiVector);
        }
        if ((ev & CpuEvents.NMI) != 0) nmiPending = true;
        if ((ev & CpuEvents.TIMER) != 0 && apic != null) apic.tick(clock.nanos());
        if ((ev & CpuEvents.KICK) != 0) {
            exit.kind = CpuExit.Kind.KICKED;
            return true;
        }
        return false;
    }

    /** Whether a halted (or SIPI-waiting) vCPU has something to do now. */
    private boolean wakeUp() {
        if (s.activity == CpuState.Activity.HALTED) {
            boolean iflag = (s.rflagsRest & Rflags.IF) != 0;
            if (nmiPending && !s.nmiBlocked || iflag && apic != null && apic.pendingInterrupt() >= 0) {
                s.activity = CpuState.Activity.RUNNING;
                return true;
            }
        }
        return false;
    }

    /** Sleeps until an event is posted or the LAPIC timer is due (then fires it). */
    private void sleep() {
        long deadline = apic == null || s.activity == CpuState.Activity.WAIT_FOR_SIPI ? Long.MAX_VALUE : apic.nextDeadline();
        long now = clock.nanos();
        if (deadline != Long.MAX_VALUE && now >= deadline) {
            apic.tick(now);
            return;
        }
        long hostDeadline = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + (deadline - now);
        if (hostDeadline < 0) hostDeadline = Long.MAX_VALUE;
        events.awaitUntil(ALL_EVENTS, hostDeadline);
    }

    /** Delivers a due NMI or external interrupt; true when one was delivered. */
    private boolean deliverPendingEvent() {
        if (s.interruptShadow) return false;
        if (nmiPending && !s.nmiBlocked) {
            nmiPending = false;
            s.nmiBlocked = true;
            interrupts.deliverEvent(CpuException.NMI, InterruptDelivery.NMI_EVENT);
            return true;
        }
        if ((s.rflagsRest & Rflags.IF) != 0 && apic != null) {
            int v = apic.pendingInterrupt();
            if (v >= 0) {
                apic.acknowledge(v);
                interrupts.deliverEvent(v, InterruptDelivery.EXTERNAL);
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ exits from instructions

    /** OUT: the write happened; return it to the backend after this instruction. */
    void exitPortOut(int port, int size, long value) {
        exit.portOut(port, size, value);
        exitPending = true;
        events.post(CpuEvents.SELF);
    }

    /** IN to AL/AX/EAX: the backend's value is written by {@link #completeIn}. */
    void exitPortIn(int port, int size) {
        exit.portIn(port, size);
        inPending = true;
        inSize = size;
        exitPending = true;
        events.post(CpuEvents.SELF);
    }

    /** INS element: the value is served when the instruction re-executes; unwinds it now. */
    CpuException exitPortInString(int port, int size) {
        exit.portIn(port, size);
        completionPort = port;
        exitPending = true;
        return ex.raise(CpuException.VMM_EXIT, CpuException.NO_ERROR_CODE);
    }

    /** The value supplied for a pending INS element from {@code port}, or -1 when none. */
    long takePortInCompletion(int port) {
        if (completionReady && completionPort == port) {
            completionReady = false;
            completionPort = -1;
            return completionValue;
        }
        return -1;
    }

    private void writeAccumulator(int size, long value) {
        switch (size) {
            case 1 -> s.gpr[0] = (s.gpr[0] & ~0xFFL) | (value & 0xFF);
            case 2 -> s.gpr[0] = (s.gpr[0] & ~0xFFFFL) | (value & 0xFFFF);
            default -> s.gpr[0] = value & 0xFFFF_FFFFL;
        }
    }

    /** A load that is not RAM: this vCPU's LAPIC page, an internal device, or an MMIO exit. */
    long mmioRead(long p, int size) {
        if (apic != null && apic.mmioEnabled() && (p & ~0xFFFL) == (apic.apicBase() & ~0xFFFL & 0xF_FFFF_FFFF_F000L)) {
            return apic.mmioRead(p & 0xFFF, size) & PhysicalMemory.mask(size);
        }
        var d = memory.device(p);
        if (d != null) return d.read(p, size) & PhysicalMemory.mask(size);
        if (completionReady && completionPort < 0 && completionAddress == p) {
            completionReady = false;
            return completionValue;
        }
        if (exitPending) throw ex.raise(CpuException.VMM_EXIT, CpuException.NO_ERROR_CODE);
        completionPort = -1;
        exit.mmio(CpuExit.Kind.MMIO_READ, p, size, 0);
        exitPending = true;
        throw ex.raise(CpuException.VMM_EXIT, CpuException.NO_ERROR_CODE);
    }

    void mmioWrite(long p, int size, long value) {
        if (apic != null && apic.mmioEnabled() && (p & ~0xFFFL) == (apic.apicBase() & ~0xFFFL & 0xF_FFFF_FFFF_F000L)) {
            apic.mmioWrite(p & 0xFFF, size, value);
            return;
        }
        var d = memory.device(p);
        if (d != null) {
            d.write(p, size, value);
            return;
        }
        // Posted: at most one per run; a second one restarts its instruction after the first is returned.
        if (exitPending) throw ex.raise(CpuException.VMM_EXIT, CpuException.NO_ERROR_CODE);
        exit.mmio(CpuExit.Kind.MMIO_WRITE, p, size, value);
        exitPending = true;
        events.post(CpuEvents.SELF);
    }

    /**
     * Code fetched from guest-physical memory that is not RAM (a device, or nothing): KVM reports
     * this as an emulation failure, and so do we — an internal-error exit naming the address —
     * rather than decoding device registers. Unwinds the instruction like an MMIO read.
     */
    CpuException fetchOutsideRam(long physical) {
        exit.kind = CpuExit.Kind.INTERNAL_ERROR;
        exit.address = s.rip;
        exit.reason = "instruction fetch from guest-physical 0x" + Long.toHexString(physical) + ", which is not RAM";
        exitPending = true;
        return ex.raise(CpuException.VMM_EXIT, CpuException.NO_ERROR_CODE);
    }

    /** Triple fault: the processor enters shutdown (SDM Vol. 3 §6.15, Interrupt 8). */
    void shutdown(String reason) {
        s.activity = CpuState.Activity.SHUTDOWN;
        exit.kind = CpuExit.Kind.SHUTDOWN;
        exit.reason = reason;
        exit.address = s.rip;
        exitPending = true;
        events.post(CpuEvents.SELF);
    }
}
