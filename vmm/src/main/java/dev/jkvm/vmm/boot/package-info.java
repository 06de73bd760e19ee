/**
 * Boots a kernel the way a Multiboot v1 loader would (Multiboot Specification 0.6.96), with QEMU's
 * {@code -kernel} as the compatibility reference: {@link dev.jkvm.vmm.boot.MultibootLoader} places
 * the kernel and writes the information structure, {@link dev.jkvm.vmm.boot.BootInfo} tells the VM
 * how to start it, {@link dev.jkvm.vmm.boot.SymbolTable} names guest addresses.
 *
 * <p>Kernel files are untrusted input: {@link dev.jkvm.vmm.boot.KernelFile} reads only regular
 * files no larger than the guest's RAM, and {@link dev.jkvm.vmm.boot.MultibootLoader#check} gives
 * the whole verdict (file and placement) as a pure function of the bytes and the memory size,
 * before any VM exists. Every refusal is a {@link dev.jkvm.vmm.boot.MultibootException} with one line.
 *
 * <p>Left out on purpose, as the spec allows (§3.3 flags stay clear): boot modules (the flag is set
 * with a count of 0, as QEMU does), the BIOS boot device, a.out symbol tables, drives, the ROM
 * configuration table, APM, and VBE/framebuffer information (a VM without a display).
 */
package dev.jkvm.vmm.boot;
