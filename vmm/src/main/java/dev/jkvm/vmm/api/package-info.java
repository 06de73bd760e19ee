/**
 * The embedding API and the engine under it: describe a machine with
 * {@link dev.jkvm.vmm.api.VirtualMachine#builder()}, {@link dev.jkvm.vmm.api.VirtualMachine#start()}
 * it, then {@link dev.jkvm.vmm.api.RunningVm#await()} its {@link dev.jkvm.vmm.api.VmOutcome};
 * {@link dev.jkvm.vmm.api.ExitStatus} maps outcomes to process exit statuses for the CLI.
 * {@link dev.jkvm.vmm.api.Vm} (one VM: RAM, buses, vCPU threads) and its per-vCPU run loop live
 * here too, because the outcome they produce is part of the API: the engine and the API are one
 * layer, not two packages that import each other.
 *
 * <p>The packages of the VMM, top down; each depends only on packages below it (checked by
 * {@code PackageCyclesTest} with jdeps):
 * <ol>
 *   <li>{@code cli} — the launcher.</li>
 *   <li>{@code api} — this package; picks the accelerator ({@link dev.jkvm.vmm.api.Accelerators}).</li>
 *   <li>{@code kvm}, {@code emulated} — the accelerators, leaves implementing the seam.</li>
 *   <li>{@code acpi}, {@code boot}, {@code cpu} — tables, the multiboot loader, CPU state the VMM
 *       programs and reads back.</li>
 *   <li>{@code vcpu} — the accelerator seam (vCPU, exits, machine backend, register records).</li>
 *   <li>{@code devices} — the port and MMIO device models and buses.</li>
 *   <li>{@code memory} — guest-physical memory.</li>
 * </ol>
 */
package dev.jkvm.vmm.api;
