package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.devices.InterruptLines;
import dev.jkvm.vmm.devices.MmioBus;
import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.time.GuestClock;

/**
 * The whole emulated irqchip wired as KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2 give it: the APIC bus
 * with one LAPIC per vCPU, the I/O APIC (EOIs from the LAPICs), the 8259 pair (INTR to the BSP's
 * LINT0), the 8254 PIT (channel 0 to PIC IRQ 0 and I/O APIC pin 2) and the platform timer thread
 * that fires the LAPIC timers and the PIT.
 *
 * <p>Use, from the emulated backend:
 * <pre>{@code
 * IrqChip chip = new IrqChip(clock);
 * for each vCPU: LocalApic apic = chip.addCpu(apicId, index == 0, cpuEvents);  // X86Cpu's InterruptController
 * chip.registerPorts(portIoBus);          // 0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1, 0x40-0x43, 0x61
 * chip.registerMmio(mmioBus);             // or route 0xFEC00000-0xFEC00FFF to chip.ioapic() internally
 * devices use chip.lines() (InterruptLines) for their GSIs
 * chip.start();                           // the platform timer thread; chip.close() stops it
 * }</pre>
 */
public final class IrqChip implements AutoCloseable {
    private final ApicBus bus;
    private final IoApic ioapic;
    private final Pic8259 pic;
    private final Pit8254 pit;
    private final IsaInterruptLines lines;
    private final PlatformTimer timer;

    public IrqChip(GuestClock clock) {
        this.bus = new ApicBus(clock);
        this.ioapic = new IoApic(IoApic.DEFAULT_BASE, bus);
        this.pic = new Pic8259();
        this.pit = new Pit8254(clock);
        this.lines = new IsaInterruptLines(ioapic, pic);
        this.timer = new PlatformTimer(clock);
        bus.onEoi(ioapic::eoi);
        bus.usePlatformTimer(timer);
        pit.onChannel0Pulse(lines::pitOutput);
        pit.usePlatformTimer(timer);
    }

    /** The LAPIC of one vCPU; the BSP's gets the 8259 on LINT0. Before the vCPUs start. */
    public LocalApic addCpu(int apicId, boolean bsp, CpuEvents events) {
        LocalApic apic = bus.add(apicId, bsp, events);
        if (bsp) {
            apic.connectExtInt(pic);
            pic.onOutputChange(apic::extIntChanged);
        }
        return apic;
    }

    public void registerPorts(PortIoBus ports) {
        registerPorts(ports, true);
    }

    /**
     * As above; without {@code withPit} the 8254's ports (and port 0x61, which it serves) are left
     * unregistered, as on a machine without one (QEMU's pit=off): its channel 0 never runs, since
     * only the guest's programming through those ports starts it.
     */
    public void registerPorts(PortIoBus ports, boolean withPit) {
        ports.register(Pic8259.MASTER_COMMAND, 2, pic);
        ports.register(Pic8259.SLAVE_COMMAND, 2, pic);
        ports.register(Pic8259.ELCR, 2, pic);
        if (withPit) {
            ports.register(Pit8254.BASE, 4, pit);
            ports.register(Pit8254.PORT_B, 1, pit);
        }
    }

    public void registerMmio(MmioBus mmio) {
        mmio.register(IoApic.DEFAULT_BASE, IoApic.MMIO_SIZE, ioapic);
    }

    /** Starts the platform timer thread (LAPIC timers and the PIT fire on their own from then on). */
    public void start() { timer.start(); }

    public ApicBus bus() { return bus; }

    public IoApic ioapic() { return ioapic; }

    public Pic8259 pic() { return pic; }

    public Pit8254 pit() { return pit; }

    /** GSIs for devices (COM1 on 4, the SCI on 9, ...). */
    public InterruptLines lines() { return lines; }

    @Override
    public void close() { timer.close(); }
}
