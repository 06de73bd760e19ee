package dev.jkvm.vmm.emulated.lockstep;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.cpu.CpuExit;
import dev.jkvm.vmm.emulated.cpu.CpuState;
import dev.jkvm.vmm.emulated.cpu.PhysicalMemory;
import dev.jkvm.vmm.emulated.cpu.X86Cpu;
import dev.jkvm.vmm.emulated.irq.ApicBus;
import dev.jkvm.vmm.emulated.irq.LocalApic;
import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The project's emulated CPU ({@link X86Cpu}) as the CPU under test: one vCPU over {@code ramBytes}
 * of guest RAM at physical 0 and no devices — by default no LAPIC either, so every device access
 * is an exit the harness answers from QEMU (port input, MMIO reads) or ignores (port output, MMIO
 * writes). With {@code localApic} the vCPU has its own {@link LocalApic} (APIC ID 0, the BSP, as
 * QEMU's single CPU) on an {@link ApicBus} without a platform timer thread: its page is served
 * inside the CPU and compared, and its timer fires when the CPU checks the deadline (while halted).
 *
 * <p>CPUID: a minimal table (max leaves, 40 physical address bits as QEMU's default CPU model);
 * results of a guest CPUID are taken from QEMU by the harness anyway.
 */
final class EmulatedCpuUnderTest implements CpuUnderTest {
    /** Null for a second vCPU, which shares the first one's RAM and APIC bus. */
    private final Arena arena;
    private final GuestMemory ram;
    private final PhysicalMemory memory;
    private final ApicBus bus;
    final X86Cpu cpu;
    /** This vCPU's LAPIC, or null. */
    final LocalApic apic;
    private final HostClock clock;
    /** The LAPIC timer's own thread, when {@link #startPlatformTimer} started it. */
    private dev.jkvm.vmm.emulated.irq.PlatformTimer platformTimer;
    /** What the last failed step reported (internal error text), for mismatch reports. */
    String lastFailure;

    EmulatedCpuUnderTest(long ramBytes) {
        this(ramBytes, false);
    }

    EmulatedCpuUnderTest(long ramBytes, boolean localApic) {
        this(null, ramBytes, localApic);
    }

    /**
     * With {@code first} non-null: vCPU {@code first}'s index + 1 over the same RAM, with a LAPIC
     * (APIC ID = index, not the BSP) on the same bus, for two-vCPU lockstep; closing it leaves the
     * RAM to {@code first}.
     */
    EmulatedCpuUnderTest(EmulatedCpuUnderTest first) {
        this(first, 0, true);
    }

    private EmulatedCpuUnderTest(EmulatedCpuUnderTest first, long ramBytes, boolean localApic) {
        clock = new HostClock();
        CpuEvents events = new CpuEvents();
        int index = first == null ? 0 : first.cpu.index + 1;
        if (first == null) {
            arena = Arena.ofShared();
            ram = new GuestMemory();
            MemorySegment seg = arena.allocate(ramBytes, 4096);
            ram.addRegion(0, seg);
            memory = new PhysicalMemory(ram);
            bus = localApic ? new ApicBus(clock) : null;
        } else {
            arena = null;
            ram = first.ram;
            memory = first.memory;
            bus = first.bus;
        }
        apic = localApic ? bus.add(index, index == 0, events) : null;
        cpu = new X86Cpu(index, memory, apic, events, clock, (vcpu, leaf, sub, out) -> {
            out[0] = out[1] = out[2] = out[3] = 0;
            if (leaf == 0) out[0] = 0xD;
            // BMI1 and LZCNT as QEMU's "max" model (random programs with TZCNT/LZCNT run on it):
            // without them F3 0F BC/BD decode as BSF/BSR.
            if (leaf == 7) out[1] = 1 << 3;
            if (leaf == 0x8000_0001) out[2] = 1 << 5;
            if (leaf == 0x8000_0000) out[0] = 0x8000_0008;
            if (leaf == 0x8000_0008) out[0] = 40;
        });
    }

    /** Throws UnsupportedOperationException (or another error) when the executor is still the contract stub. */
    static boolean available() {
        try (EmulatedCpuUnderTest t = new EmulatedCpuUnderTest(1 << 20)) {
            // Real mode after RESET; CS base moved to 0 where a NOP sits.
            t.cpu.s.segBase[CpuState.CS] = 0;
            t.cpu.s.segSelector[CpuState.CS] = 0;
            t.cpu.s.rip = 0;
            t.ram.write(0, new byte[] {(byte) 0x90, (byte) 0xF4});
            t.cpu.stateChanged();
            CpuExit e = t.cpu.step();
            return e == null && t.cpu.s.rip == 1;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    @Override
    public void load(X86State r, SegmentState seg) {
        CpuState s = cpu.s;
        for (int i = 0; i < 8; i++) {
            s.segSelector[i] = seg.selector()[i];
            s.segBase[i] = seg.base()[i];
            s.segLimit[i] = seg.limit()[i];
            s.segAttr[i] = seg.attr()[i];
        }
        s.gdtBase = seg.gdtBase();
        s.gdtLimit = seg.gdtLimit();
        s.idtBase = seg.idtBase();
        s.idtLimit = seg.idtLimit();
        s.cr0 = r.cr0;
        s.cr2 = r.cr2;
        s.cr3 = r.cr3;
        s.cr4 = r.cr4;
        s.efer = r.efer;
        s.kernelGsBase = r.kernelGsBase;
        s.activity = CpuState.Activity.RUNNING;
        s.interruptShadow = seg.interruptShadow();
        setRegisters(r);
        s.segBase[CpuState.FS] = r.fsBase;
        s.segBase[CpuState.GS] = r.gsBase;
        cpu.stateChanged();
        s.cpl = seg.cpl();
    }

    @Override
    public void loadMsrs(OracleMsrs m) {
        CpuState s = cpu.s;
        s.star = m.star();
        s.lstar = m.lstar();
        s.cstar = m.cstar();
        s.fmask = m.fmask();
        s.pat = m.pat();
        s.sysenterCs = m.sysenterCs();
        s.sysenterEsp = m.sysenterEsp();
        s.sysenterEip = m.sysenterEip();
        s.tscAux = m.tscAux();
    }

    @Override
    public void setRegisters(X86State r) {
        CpuState s = cpu.s;
        System.arraycopy(r.gpr, 0, s.gpr, 0, 16);
        s.rip = r.rip;
        cpu.setRflags(r.rflags);
        System.arraycopy(r.xmm, 0, s.xmm, 0, 32);
        s.mxcsr = r.mxcsr;
    }

    @Override
    public void writeMemory(long physical, byte[] data) {
        ram.write(physical, data);
        // Stale decoded blocks of rewritten code must go, as after a guest store.
        for (long page = physical & ~0xFFFL; page < physical + data.length; page += 4096) memory.codePages().written(page);
    }

    @Override
    public void writeVirtual(long linear, byte[] data) {
        for (int i = 0; i < data.length; i++) cpu.mmu.writeLinear(linear + i, 1, data[i] & 0xFF, true);
    }

    @Override
    public byte[] readMemory(long physical, int length) {
        return ram.slice(physical, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public StepEvent step(DeviceAnswers devices) {
        long rip = cpu.s.rip;
        CpuExit e = cpu.step();
        if (e == null) return StepEvent.EXECUTED;
        return switch (e.kind) {
            case PORT_IN -> {
                cpu.completeIn(devices.portIn(e.port, e.size));
                // INS leaves the instruction to re-execute with the value (IN completes at once).
                if (cpu.s.rip == rip) finish();
                yield StepEvent.PORT_IN;
            }
            case PORT_OUT -> StepEvent.PORT_OUT;
            case MMIO_READ -> {
                cpu.completeMmioRead(devices.mmioRead(e.address, e.size));
                finish();
                yield StepEvent.MMIO_READ;
            }
            case MMIO_WRITE -> StepEvent.MMIO_WRITE;
            case SHUTDOWN -> {
                lastFailure = e.toString();
                yield StepEvent.SHUTDOWN;
            }
            case KICKED -> StepEvent.EXECUTED;
            case INTERNAL_ERROR -> {
                lastFailure = e.toString();
                yield StepEvent.FAILED;
            }
        };
    }

    /** Re-executes the instruction whose device read was just answered. */
    private void finish() {
        CpuExit again = cpu.step();
        if (again != null && again.kind == CpuExit.Kind.INTERNAL_ERROR) lastFailure = again.toString();
    }

    @Override
    public X86State registers() {
        CpuState s = cpu.s;
        X86State r = new X86State();
        System.arraycopy(s.gpr, 0, r.gpr, 0, 16);
        r.rip = s.rip;
        r.rflags = cpu.rflags();
        for (int i = 0; i < 6; i++) r.selector[i] = s.segSelector[i];
        r.fsBase = s.segBase[CpuState.FS];
        r.gsBase = s.segBase[CpuState.GS];
        r.kernelGsBase = s.kernelGsBase;
        r.cr0 = s.cr0;
        r.cr2 = s.cr2;
        r.cr3 = s.cr3;
        r.cr4 = s.cr4;
        r.cr8 = apic != null ? apic.cr8() : 0; // not compared (X86State.differences): the guest reads it with MOV
        r.efer = s.efer;
        System.arraycopy(s.xmm, 0, r.xmm, 0, 32);
        r.mxcsr = s.mxcsr;
        return r;
    }

    @Override
    public boolean atInstructionBreakpoint() {
        return cpu.debug.instructionBreakpointHere();
    }

    @Override
    public boolean halted() {
        return cpu.s.activity == CpuState.Activity.HALTED;
    }

    @Override
    public boolean canWake() {
        // A step of a halted CPU sleeps until an event or the LAPIC deadline: never step one that has neither.
        return cpu.events.peek() != 0
                || apic != null && (apic.nextDeadline() != Long.MAX_VALUE || apic.pendingInterrupt() >= 0);
    }

    @Override
    public String failureDetail() {
        return lastFailure;
    }

    @Override
    public SegmentState segments() {
        CpuState s = cpu.s;
        int[] sel = new int[8];
        long[] base = new long[8];
        long[] limit = new long[8];
        int[] attr = new int[8];
        for (int i = 0; i < 8; i++) {
            sel[i] = s.segSelector[i];
            base[i] = s.segBase[i];
            limit[i] = s.segLimit[i];
            attr[i] = s.segAttr[i];
        }
        return new SegmentState(sel, base, limit, attr, s.gdtBase, s.gdtLimit, s.idtBase, s.idtLimit, s.cpl,
                s.interruptShadow, s.activity == CpuState.Activity.HALTED);
    }

    /**
     * Fires the LAPIC timer from a thread of its own, as the VMM does ({@link
     * dev.jkvm.vmm.emulated.irq.PlatformTimer}): without it the timer fires only when the CPU
     * checks the deadline while halted, never during a busy loop that is single-stepped.
     */
    void startPlatformTimer() {
        platformTimer = new dev.jkvm.vmm.emulated.irq.PlatformTimer(clock).start();
        bus.usePlatformTimer(platformTimer);
    }

    @Override
    public void close() {
        if (platformTimer != null) platformTimer.close();
        if (arena != null) arena.close();
    }
}
