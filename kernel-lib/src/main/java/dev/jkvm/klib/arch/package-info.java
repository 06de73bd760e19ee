/**
 * x86 facts that more than one part of kernel-lib needs, written once with the specification
 * section that dictates them: IA32_EFER and its bits, the flat GDT descriptors, the COM1 port.
 * Constants only; the bottom layer, below rt and everything else (PackageLayersTest).
 */
package dev.jkvm.klib.arch;
