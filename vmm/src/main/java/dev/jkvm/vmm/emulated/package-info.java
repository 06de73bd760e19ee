/**
 * The emulated accelerator: an x86-64 machine in Java for hosts without a usable {@code /dev/kvm}.
 *
 * <p>Layers, bottom up (no package depends on one above it):
 * <ul>
 *   <li>{@code time} — {@code GuestClock}: the only source of guest-visible time (host time now,
 *       virtual time later, so seeded deterministic SMP runs need no change elsewhere).</li>
 *   <li>{@code cpu} — one processor: {@code CpuState} (plain fields), the decoder and the
 *       decoded-block cache keyed by physical address ({@code Insn}, {@code CodePages}), the
 *       executor (integer, string, SSE) with hot 64-bit blocks translated to JVM bytecode
 *       ({@code BlockTranslator}: one hidden class per region of a code page, shared by the vCPUs;
 *       {@code -Djkvm.emulated.translate=on|off|always}), {@code Mmu}/{@code PhysicalMemory} (paging, TLB, TSO
 *       ordering of guest RAM), {@code SystemInstructions} (segmentation, control registers,
 *       MSRs, exceptions and interrupt delivery) and {@code X86Cpu}, whose run loop executes
 *       until an exit and can be stepped one instruction or one block at a time.</li>
 *   <li>{@code irq} — local APIC (implements {@code cpu.InterruptController}), I/O APIC, 8259
 *       PIC pair, 8254 PIT: what KVM's in-kernel irqchip provided.</li>
 *   <li>this package — the backend behind the VMM's accelerator seam: creates the machine, maps
 *       guest RAM, wires the interrupt controllers, adapts {@code X86Cpu} to the VMM's vCPU.</li>
 * </ul>
 */
package dev.jkvm.vmm.emulated;
