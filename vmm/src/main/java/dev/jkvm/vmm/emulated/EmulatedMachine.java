package dev.jkvm.vmm.emulated;

import dev.jkvm.vmm.devices.InterruptLines;
import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.cpu.PhysicalMemory;
import dev.jkvm.vmm.emulated.irq.IoApic;
import dev.jkvm.vmm.emulated.irq.IrqChip;
import dev.jkvm.vmm.emulated.irq.LocalApic;
import dev.jkvm.vmm.emulated.time.GuestClock;
import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.vcpu.MachineBackend;
import dev.jkvm.vmm.vcpu.Vcpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The emulated accelerator's machine: guest RAM as {@link PhysicalMemory} (no KVM: the VMM's
 * anonymous mapping, shared by every vCPU), one {@code X86Cpu} with its {@link LocalApic} per vCPU,
 * and the irqchip KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2 would have given — I/O APIC at 0xFEC00000
 * (an internal MMIO device), the 8259 pair and the 8254 PIT with port 0x61 (internal ports the VMM
 * never sees, as with KVM's in-kernel devices), the platform timer thread — all on one
 * {@link GuestClock} following host time.
 */
public final class EmulatedMachine implements MachineBackend {
    /** The most vCPUs: the launcher's own limit; x2APIC IDs (ApicBus) have no lower one. */
    public static final int MAX_VCPUS = 1024;

    private final GuestClock clock;
    private final IrqChip chip;
    /** The irqchip's ports (PIC, ELCR, PIT, port 0x61): handled inside the vCPU, never exits. */
    private final PortIoBus internalPorts = new PortIoBus();
    private final List<CpuidEntry> cpuid;
    private final List<EmulatedVcpu> vcpus = Collections.synchronizedList(new ArrayList<>());
    private volatile PhysicalMemory memory;
    private boolean closed;

    private EmulatedMachine(GuestClock clock, boolean pit) {
        this.clock = clock;
        this.chip = new IrqChip(clock);
        this.cpuid = EmulatedCpuid.table(clock.tscHz());
        chip.registerPorts(internalPorts, pit);
    }

    /** A machine on host time; its timer thread starts with it. */
    public static EmulatedMachine create() {
        return create(true);
    }

    /** As above; without {@code pit} no 8254 is wired (its ports and port 0x61 have no device). */
    public static EmulatedMachine create(boolean pit) {
        EmulatedMachine m = new EmulatedMachine(new HostClock(), pit);
        m.chip.start();
        return m;
    }

    @Override
    public Accelerator accelerator() { return Accelerator.EMULATED; }

    @Override
    public int maxVcpus() { return MAX_VCPUS; }

    @Override
    public List<CpuidEntry> supportedCpuid() { return cpuid; }

    @Override
    public void mapMemory(GuestMemory guest) {
        if (memory != null) throw new IllegalStateException("guest memory is mapped once");
        PhysicalMemory m = new PhysicalMemory(guest);
        m.addDevice(IoApic.DEFAULT_BASE, IoApic.MMIO_SIZE, chip.ioapic());
        memory = m;
    }

    @Override
    public Vcpu createVcpu(int index) {
        PhysicalMemory m = memory;
        if (m == null) throw new IllegalStateException("map guest memory before creating vCPUs");
        CpuEvents events = new CpuEvents();
        LocalApic apic = chip.addCpu(index, index == 0, events);
        EmulatedVcpu vcpu = new EmulatedVcpu(index, m, apic, events, clock, cpuid, internalPorts);
        vcpus.add(vcpu);
        return vcpu;
    }

    @Override
    public InterruptLines interruptLines() { return chip.lines(); }

    /** Lines for the run summary: each opcode the CPU did not implement, with where and how often. */
    @Override
    public List<String> notes() {
        return OpcodeReport.summary(vcpus);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        chip.close();
    }
}
