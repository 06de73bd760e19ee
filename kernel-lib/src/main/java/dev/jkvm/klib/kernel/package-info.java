/**
 * The SMP kernel, written in the Java subset (JavaSubsetCompiler) plus a little assembler
 * (package build, which also links the image).
 *
 * <p>Layers, bottom to top; a package uses only packages above it in this list, never one below
 * (PackageLayersTest checks it with jdeps over the compiled classes and names any edge that
 * points up). Below them all: dev.jkvm.klib.arch (x86 constants written once: IA32_EFER, the
 * flat GDT descriptors, COM1) and dev.jkvm.klib.rt (the intrinsics compiled code calls).
 * <ol>
 * <li>{@code sync} locks, barriers, semaphores; {@code boot} what the boot path hands over
 *     (fw_cfg, trampoline parameters); {@code apic} the local APIC and legacy PIC;
 *     {@code time} delays and the PIT calibration; {@code acpi} the tables.</li>
 * <li>{@code mm}: kernel layout, memory map, boot allocator, page tables.</li>
 * <li>{@code console}: the kernel log (Log).</li>
 * <li>{@code cpu}: what each CPU is and owns: CpuRecord (identity: APIC ID, per-CPU area, stack
 *     top), CpuMask, per-CPU areas and variables, GDT, IDT, TSS, CPU features.</li>
 * <li>{@code trap}: vectors, the trap frame, panic, crash reports, symbols and source lines,
 *     exit codes, interrupt counts.</li>
 * <li>{@code smp}: AP start-up, IPI mailbox and handlers, call-function, TLB shootdown.</li>
 * <li>{@code sched}: the portable scheduler: tasks, run queues, wait queues, sleep, blocking
 *     semaphores; it never touches a register, the GS area, the TSS or the local APIC (what it
 *     needs of the CPU goes through sched.SchedArch), so host tests run it unchanged.</li>
 * <li>{@code user}: ring-3 programs and their address space.</li>
 * <li>{@code proc}: tasks in this kernel (as xv6's proc.c and syscall.c): package sched bound to
 *     the machine (KernelScheduler: a scheduler block per CPU, the LAPIC tick, the reschedule
 *     IPI; kernel stacks; the task entry and the task-body numbers), system calls, user faults,
 *     the watchdog, the workload run.</li>
 * <li>{@code selftest}: every in-guest check: the SMP test suite, the boot-time IPI checks, the
 *     kernel-task, ring-3-task and scheduler checks and the scheduler benchmark.</li>
 * <li>this package: Kernel.main and Kernel.apMain, the boot paths; MainTask, the first task,
 *     and TaskBodyTable, what tasks run; Traps, the dispatch of every interrupt into the layers
 *     below; CommandLine.</li>
 * <li>{@code build}: host code that compiles all of the above and links the image.</li>
 * </ol>
 * A lower layer that must reach a higher one at run time does so through a by-symbol seam: a
 * symbol the lower package calls (Asm.call) and the kernel build binds to the higher routine
 * (sync.SyncPanic and mm.MmPanic to trap.Panic, smp.CallFunctionDispatch to
 * selftest.CrossCalls, proc.TaskBodies to TaskBodyTable, sched.SchedArch to
 * build.SchedRoutines); a host test binds the same symbol with Asm.hostDefine.
 *
 * <p>Boot CPU: build.BootEntry (32-bit multiboot entry, static 1 GiB identity map, long mode,
 * per-CPU area, GS) calls {@link dev.jkvm.klib.kernel.Kernel#main}: memory map and boot
 * allocator, IDT (every vector, Traps), CPUID features, ACPI topology (package acpi),
 * per-CPU records, areas, stacks and TSSes (cpu.CpuRecord, cpu.CpuResources), GDT, the kernel's
 * own page tables (mm.PageTables: 4 KiB pages with per-section rights over the image and its
 * allocations, 2 MiB pages elsewhere, guard pages unmapped), protections (NX, SMEP, SMAP, UMIP,
 * CR0.WP), the local APIC and its timer calibrated against the PIT (apic, time), the APs
 * (smp.ApStartup through the trampoline of build.ApTrampoline; each AP enters Kernel.apMain),
 * the IPI checks (selftest.IpiChecks: reschedule, call-function and TLB shootdown over smp's
 * mailbox), a report; then the scheduler (package proc wires package sched into the kernel: a
 * periodic LAPIC tick and the reschedule IPI on every CPU, kernel stacks with guard pages, the
 * context switch in build.SchedRoutines) starts the main task (MainTask): the kernel-task and
 * ring-3 task checks (selftest) and the default workload of ring-3 tasks (package user: user
 * programs on their own user-accessible pages; they enter the kernel with SYSCALL,
 * proc.Syscalls; user faults kill only the task, proc.UserFaults), a per-CPU table, and ACPI S5
 * soft-off (acpi.SoftOff; isa-debug-exit through trap.ExitCodes where the machine has no S5,
 * and for every failure).
 *
 * <p>Physical memory: the trampoline page at 0x8000 while APs start; the image at 1 MiB (text,
 * rodata, data, bss: boot stack with its guard page, boot CPU's per-CPU area); then, from the
 * end of the image or of the multiboot data, whichever is higher, the boot allocator's
 * allocations in order: guard list, IDT, topology, CPU records, SMP state, GDT, per-CPU areas,
 * stacks and TSSes, the shootdown test's pages, the task kernel stacks (each above a guard page)
 * and the page-table pool; after paging, the user stack arena (one 2 MiB page) and the scheduler.
 */
package dev.jkvm.klib.kernel;
