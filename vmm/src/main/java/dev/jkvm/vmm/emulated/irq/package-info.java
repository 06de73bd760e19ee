/**
 * What KVM's in-kernel irqchip (KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2) provided, in Java, timed
 * only through {@link dev.jkvm.vmm.emulated.time.GuestClock}:
 * <ul>
 *   <li>{@link dev.jkvm.vmm.emulated.irq.LocalApic}, one per vCPU, implementing
 *       {@link dev.jkvm.vmm.emulated.cpu.InterruptController}, on an
 *       {@link dev.jkvm.vmm.emulated.irq.ApicBus} that routes IPIs and I/O APIC messages;</li>
 *   <li>{@link dev.jkvm.vmm.emulated.irq.IoApic} (MMIO at 0xFEC00000),
 *       {@link dev.jkvm.vmm.emulated.irq.Pic8259} (ports 0x20/0xA0/0x4D0, INTR to the BSP's
 *       LINT0), {@link dev.jkvm.vmm.emulated.irq.Pit8254} (ports 0x40-0x43 and 0x61);</li>
 *   <li>{@link dev.jkvm.vmm.emulated.irq.IsaInterruptLines}, the GSIs devices drive, and
 *       {@link dev.jkvm.vmm.emulated.irq.IrqChip}, all of it wired as KVM wires it.</li>
 * </ul>
 *
 * <p>Timers: nothing ticks. Each timer knows its next GuestClock deadline
 * ({@link dev.jkvm.vmm.emulated.irq.TimerSource}); one {@link dev.jkvm.vmm.emulated.irq.PlatformTimer}
 * thread, parked until the earliest deadline, fires LAPIC timers and PIT channel 0 so a running
 * vCPU gets its timer interrupt through CpuEvents within one block and a halted one wakes. vCPUs
 * may also call {@code tick(now)} themselves (idempotent); a later virtual-time mode would do
 * only that and not start the thread. Counters (LAPIC current count, PIT counts and OUT) are
 * computed from GuestClock when read.
 *
 * <p>Fidelity: where KVM and the datasheets differ, these models follow KVM so a guest sees the
 * same machine on both accelerators; IrqChipKvmOracleTest runs one register script as a guest on
 * KVM and against these models and compares every value, IrqChipQemuOracleTest does the same
 * against QEMU's models where QEMU agrees with KVM.
 *
 * <p>Depends on {@code emulated.cpu} (the interface and CpuEvents), {@code emulated.time} and
 * {@code devices} (the MMIO/PIO device and interrupt-line interfaces); nothing here depends on
 * the backend above.
 */
package dev.jkvm.vmm.emulated.irq;
