/**
 * What KVM's in-kernel irqchip provided, in Java, timed only through
 * {@link dev.jkvm.vmm.emulated.time.GuestClock}: the local APICs ({@link
 * dev.jkvm.vmm.emulated.irq.LocalApic}, one per vCPU, implementing
 * {@link dev.jkvm.vmm.emulated.cpu.InterruptController}) on an {@link
 * dev.jkvm.vmm.emulated.irq.ApicBus} that routes IPIs and I/O APIC messages, the I/O APIC, the
 * 8259 PIC pair, the 8254 PIT with port 0x61, and {@link dev.jkvm.vmm.emulated.irq.PlatformTimer},
 * the one thread that fires timers when their GuestClock deadline passes.
 *
 * <p>Depends on {@code emulated.cpu} (the interface and CpuEvents), {@code emulated.time} and
 * {@code devices} (the MMIO/PIO device and interrupt-line interfaces); nothing here depends on
 * the backend above.
 */
package dev.jkvm.vmm.emulated.irq;
