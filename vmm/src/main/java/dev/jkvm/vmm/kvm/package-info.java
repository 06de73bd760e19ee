/**
 * The KVM accelerator, a leaf implementing the {@code vcpu} seam: {@link dev.jkvm.vmm.kvm.KvmMachine}
 * (the machine backend) over Linux KVM through the Panama FFM API: {@link dev.jkvm.vmm.kvm.Kvm} (/dev/kvm),
 * {@link dev.jkvm.vmm.kvm.KvmVm} (a VM fd), {@link dev.jkvm.vmm.kvm.KvmVcpu} (a vCPU fd and its
 * kvm_run area), the libc downcalls they need ({@link dev.jkvm.vmm.kvm.Libc}) and the signal that
 * kicks a vCPU out of KVM_RUN ({@link dev.jkvm.vmm.kvm.KickSignal}); {@code KvmStructs} encodes the
 * seam's neutral records as KVM's structures. Nothing outside this package and {@code api}'s
 * accelerator choice (and the CLI's /dev/kvm checks) refers to it.
 *
 * <p>Every ioctl number, constant and struct offset comes from {@code KvmAbi} and {@code LibcAbi},
 * which native-shims/kvm_layout_gen.c generates from the system headers; KvmAbiRegenerationTest
 * keeps them in step. Every failed call throws {@link dev.jkvm.vmm.kvm.KvmException} naming the
 * call, the object and the errno.
 */
package dev.jkvm.vmm.kvm;
