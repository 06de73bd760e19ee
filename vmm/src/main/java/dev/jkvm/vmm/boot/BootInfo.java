package dev.jkvm.vmm.boot;

/**
 * What the VM needs to start a loaded multiboot kernel (Multiboot 0.6.96 §3.2): EIP =
 * {@code entry}, EAX = {@link MultibootLoader#MULTIBOOT_BOOTLOADER_MAGIC}, EBX = {@code mbiAddress},
 * 32-bit protected mode with paging off.
 *
 * @param kernelStart lowest guest-physical address the kernel was loaded at
 * @param kernelEnd   end (exclusive) of everything placed for the kernel: its segments, bss and,
 *                    when present, the copied ELF section headers and symbol tables
 * @param symbols     the kernel's symbols; empty when the image has none
 */
public record BootInfo(long entry, long mbiAddress, long kernelStart, long kernelEnd, SymbolTable symbols) {}
