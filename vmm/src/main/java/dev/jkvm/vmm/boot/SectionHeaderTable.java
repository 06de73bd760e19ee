package dev.jkvm.vmm.boot;

/**
 * Where the loader put a copy of the kernel's ELF section headers: the "syms" fields of the
 * multiboot info when flags bit 5 is set (Multiboot 0.6.96 §3.3: num, size, addr, shndx).
 */
record SectionHeaderTable(long count, long entrySize, long address, long namesIndex) {}
