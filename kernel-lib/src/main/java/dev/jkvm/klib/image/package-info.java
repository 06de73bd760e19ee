/**
 * Links assembled sections into a bootable kernel file: ELF32 (EM_386) with PT_LOAD segments,
 * a Multiboot 0.6.96 header with address fields, and a symbol table. See
 * {@link dev.jkvm.klib.image.ImageBuilder} and {@link dev.jkvm.klib.image.KernelImage}.
 */
package dev.jkvm.klib.image;
