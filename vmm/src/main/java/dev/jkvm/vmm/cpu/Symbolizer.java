package dev.jkvm.vmm.cpu;

/** Names guest code addresses in crash reports, e.g. from the kernel's ELF symbol table. */
@FunctionalInterface
public interface Symbolizer {
    /** {@code "symbol+0x12"} for the address, or null when no symbol covers it. */
    String symbolize(long address);

    Symbolizer NONE = address -> null;
}
