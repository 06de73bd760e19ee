/**
 * Links assembled sections into a bootable kernel file: ELF32 (EM_386) with PT_LOAD segments,
 * a Multiboot 0.6.96 header with address fields, and a symbol table. See
 * {@link dev.jkvm.klib.image.ImageBuilder} and {@link dev.jkvm.klib.image.KernelImage}. Also the
 * boot code every image shares: {@link dev.jkvm.klib.image.LongModeSwitch}, the one 32-bit to
 * long-mode switch (the kernel's boot CPU, its AP trampoline and LongModeBoot call it).
 */
package dev.jkvm.klib.image;
