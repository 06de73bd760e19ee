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
 * a report; then the scheduler (package task wires package sched into the kernel: a periodic
 * LAPIC tick and the reschedule IPI on every CPU, kernel stacks with guard pages, the context
 * switch in build.SchedRoutines) starts the main task (task.MainTask): kernel-task and ring-3
 * task tests and the default workload of ring-3 tasks (package user: user programs on their
 * own user-accessible pages, a UD2 system call gate, user faults that kill only the task),
 * a per-CPU table, and ACPI S5 soft-off (acpi.SoftOff; isa-debug-exit through trap.ExitCodes where
 * the machine has no S5, and for every failure).
 *
 * <p>Physical memory: the trampoline page at 0x8000 while APs start; the image at 1 MiB (text,
 * rodata, data, bss: boot stack with its guard page, boot CPU's per-CPU area); then, from the
 * end of the image or of the multiboot data, whichever is higher, the boot allocator's
 * allocations in order: guard list, IDT, topology, SMP state, GDT, per-CPU areas, stacks and
 * TSSes, the shootdown test's pages, the task kernel stacks (each above a guard page) and the
 * page-table pool; after paging, the user stack arena (one 2 MiB page) and the scheduler.
 */
package dev.jkvm.klib.kernel;
