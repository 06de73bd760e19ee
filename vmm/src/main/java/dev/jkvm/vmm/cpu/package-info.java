/**
 * x86 CPU state the VMM programs and reads back: per-vCPU CPUID ({@link dev.jkvm.vmm.cpu.CpuidTable}),
 * initial MSRs ({@link dev.jkvm.vmm.cpu.MsrSetup}), the multiboot entry state
 * ({@link dev.jkvm.vmm.cpu.BootCpuState}), guest page-table walks
 * ({@link dev.jkvm.vmm.cpu.GuestPageWalker}) and post-mortems ({@link dev.jkvm.vmm.cpu.CrashReport}).
 */
package dev.jkvm.vmm.cpu;
