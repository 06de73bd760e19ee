/**
 * The accelerator seam: what the VMM needs from whatever runs guest code, and nothing of how.
 * {@link dev.jkvm.vmm.vcpu.MachineBackend} creates {@link dev.jkvm.vmm.vcpu.Vcpu}s whose
 * {@code run()} returns a sealed {@link dev.jkvm.vmm.vcpu.VcpuExit}; registers, CPUID entries
 * and MP states are plain records and enums here. The {@code kvm} package (Linux KVM) and the
 * {@code emulated} package (a CPU in Java) implement it; the engine in {@code api} uses only it.
 *
 * <p>Depends on {@code devices} (interrupt lines) and {@code memory} (guest RAM) only.
 */
package dev.jkvm.vmm.vcpu;
