package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.cpu.CpuException;
import dev.jkvm.vmm.emulated.cpu.CpuExit;
import dev.jkvm.vmm.emulated.cpu.CpuState;
import dev.jkvm.vmm.emulated.cpu.CpuidSource;
import dev.jkvm.vmm.emulated.cpu.PhysicalMemory;
import dev.jkvm.vmm.emulated.cpu.X86Cpu;
import dev.jkvm.vmm.emulated.irq.LocalApic;
import dev.jkvm.vmm.emulated.time.GuestClock;
import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.vcpu.MpState;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Sregs;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VcpuExit;

import java.util.List;
import java.util.Map;

/**
 * {@link X86Cpu} behind the VMM's {@link Vcpu}: its exits become {@link VcpuExit}s (the irqchip's
 * own ports are served here and never leave), a kick posts {@link CpuEvents#KICK}, registers map
 * through {@link CpuStateMapping}, MP states through the CPU's activity state.
 *
 * <p>Threading as the seam says: {@link #run} on the vCPU thread; state accessors while it is
 * not running (the VM's pause gate or the end of the run orders them after the thread's writes).
 */
final class EmulatedVcpu implements Vcpu {
    private final X86Cpu cpu;
    private final LocalApic apic;
    private final PortIoBus internalPorts;
    private volatile CpuidSource cpuid;

    /** OUT data is already in the exit; IN data goes straight back into the CPU (same thread, before the next run). */
    private final VcpuExit.PortData portData = new VcpuExit.PortData() {
        @Override
        public int get(int i) { return (int) cpu.exit.value; }

        @Override
        public void set(int i, int value) { cpu.completeIn(value & 0xFFFF_FFFFL); }
    };

    private final VcpuExit.MmioData mmioData = this::completeMmioRead;

    private void completeMmioRead(long value) { cpu.completeMmioRead(value); }

    // The frequent exits, reused (valid until the next run): the exit path allocates nothing.
    private final VcpuExit.PortIn portIn = new VcpuExit.PortIn(portData);
    private final VcpuExit.PortOut portOut = new VcpuExit.PortOut(portData);
    private final VcpuExit.MmioRead mmioRead = new VcpuExit.MmioRead(mmioData);
    private final VcpuExit.MmioWrite mmioWrite = new VcpuExit.MmioWrite();

    EmulatedVcpu(int index, PhysicalMemory memory, LocalApic apic, CpuEvents events, GuestClock clock,
                 List<CpuidEntry> baseCpuid, PortIoBus internalPorts) {
        this.apic = apic;
        this.internalPorts = internalPorts;
        // The CPU reads CPUID while it powers on (leaf 1 for EDX, 0x80000008 for the address
        // width): it answers from the machine's table until the VMM sets this vCPU's own.
        this.cpuid = EmulatedCpuid.source(baseCpuid);
        this.cpu = new X86Cpu(index, memory, apic, events, clock, (vcpu, leaf, sub, out) -> cpuid.cpuid(vcpu, leaf, sub, out));
    }

    /** The CPU, for the unimplemented-opcode report and tests. */
    X86Cpu cpu() { return cpu; }

    @Override
    public int index() { return cpu.index; }

    @Override
    public void bindToCurrentThread() { cpu.events.bindOwner(Thread.currentThread()); }

    @Override
    public void unbindFromCurrentThread() {
        // A kick nobody will consume any more is dropped, so a later inspection run starts clean.
        cpu.events.take(CpuEvents.KICK);
    }

    @Override
    public VcpuExit run() {
        while (true) {
            CpuExit e = cpu.run();
            switch (e.kind) {
                case PORT_IN -> {
                    if (internalPorts.decodes(e.port)) {
                        cpu.completeIn(internalPorts.read(e.port, e.size) & 0xFFFF_FFFFL);
                        continue;
                    }
                    return portIn.reset(e.port, e.size, 1);
                }
                case PORT_OUT -> {
                    if (internalPorts.decodes(e.port)) {
                        internalPorts.write(e.port, e.size, (int) e.value);
                        continue;
                    }
                    return portOut.reset(e.port, e.size, 1);
                }
                case MMIO_READ -> {
                    return mmioRead.reset(e.address, e.size);
                }
                case MMIO_WRITE -> {
                    return mmioWrite.reset(e.address, e.size, e.value);
                }
                case SHUTDOWN -> {
                    return new VcpuExit.Shutdown("shutdown (triple fault): " + e.reason);
                }
                case KICKED -> {
                    return VcpuExit.Interrupted.INSTANCE;
                }
                case INTERNAL_ERROR -> {
                    return new VcpuExit.InternalError(
                            "emulated cpu: internal error at RIP 0x" + Long.toHexString(e.address), "cause: " + e.reason);
                }
            }
        }
    }

    @Override
    public void kick() { cpu.events.post(CpuEvents.KICK); }

    @Override
    public Regs regs() { return CpuStateMapping.regs(cpu); }

    @Override
    public void setRegs(Regs regs) { CpuStateMapping.setRegs(cpu, regs); }

    @Override
    public Sregs sregs() { return CpuStateMapping.sregs(cpu, apic); }

    @Override
    public void setSregs(Sregs sregs) { CpuStateMapping.setSregs(cpu, apic, sregs); }

    @Override
    public void setCpuid(List<CpuidEntry> entries) { this.cpuid = EmulatedCpuid.source(entries); }

    @Override
    public void setMsrs(Map<Integer, Long> msrs) {
        for (Map.Entry<Integer, Long> m : msrs.entrySet()) {
            try {
                cpu.system.msrs.write(m.getKey(), m.getValue());
            } catch (CpuException e) {
                throw new IllegalArgumentException("emulated cpu " + cpu.index + ": MSR 0x" + Integer.toHexString(m.getKey())
                        + " = 0x" + Long.toHexString(m.getValue()) + " was refused (#GP)");
            }
        }
    }

    @Override
    public long msr(int index) {
        try {
            return cpu.system.msrs.read(index);
        } catch (CpuException e) {
            throw new IllegalArgumentException("emulated cpu " + cpu.index + ": MSR 0x" + Integer.toHexString(index) + " is not readable");
        }
    }

    /** KVM's MP states from the activity state (SDM Vol. 3 §9.4: an AP after INIT waits for SIPI). */
    @Override
    public MpState mpState() {
        return switch (cpu.s.activity) {
            case RUNNING, SHUTDOWN -> MpState.RUNNABLE;
            case HALTED -> MpState.HALTED;
            case WAIT_FOR_SIPI -> MpState.UNINITIALIZED;
        };
    }

    @Override
    public void setMpState(MpState state) {
        cpu.s.activity = switch (state) {
            case RUNNABLE, SIPI_RECEIVED -> CpuState.Activity.RUNNING;
            case HALTED -> CpuState.Activity.HALTED;
            case UNINITIALIZED, INIT_RECEIVED -> CpuState.Activity.WAIT_FOR_SIPI;
        };
    }

    @Override
    public void setFpuControl(int fcw, int mxcsr) {
        cpu.s.fpuControl = fcw & 0xFFFF;
        cpu.s.mxcsr = mxcsr;
    }

    @Override
    public void close() {
        // Nothing native: the CPU is garbage once its thread has ended.
    }
}
