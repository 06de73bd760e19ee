/**
 * The SMP kernel, written in the Java subset (JavaSubsetCompiler) plus a little assembler
 * (package build, which also links the image).
 *
 * <p>Boot CPU: build.BootEntry (32-bit multiboot entry, static 1 GiB identity map, long mode,
 * per-CPU area, GS) calls {@link dev.jkvm.klib.kernel.Kernel#main}: memory map and boot
 * allocator, IDT (every vector, trap.Traps), CPUID features, ACPI topology (package acpi),
 * per-CPU areas, stacks and TSSes (cpu.CpuResources), GDT, the kernel's own page tables
 * (mm.PageTables: 4 KiB pages with per-section rights over the image and its allocations,
 * 2 MiB pages elsewhere, guard pages unmapped), protections (NX, SMEP, SMAP, UMIP, CR0.WP),
 * the local APIC and its timer calibrated against the PIT (apic, time), the APs
 * (smp.ApStartup through the trampoline of build.ApTrampoline), the IPI self-tests
 * (smp.SmpSelfTest over ksync's mailbox, call-function and TLB shootdown in package smp),
 * a report, and isa-debug-exit (trap.ExitCodes).
 *
 * <p>Physical memory: the trampoline page at 0x8000 while APs start; the image at 1 MiB (text,
 * rodata, data, bss: boot stack with its guard page, boot CPU's per-CPU area); then, from the
 * end of the image or of the multiboot data, whichever is higher, the boot allocator's
 * allocations in order: guard list, IDT, topology, SMP state, GDT, per-CPU areas, stacks and
 * TSSes, the shootdown test's pages and the page-table pool.
 */
package dev.jkvm.klib.kernel;
