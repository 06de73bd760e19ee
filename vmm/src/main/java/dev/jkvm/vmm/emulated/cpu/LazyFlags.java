package dev.jkvm.vmm.emulated.cpu;

/**
 * The arithmetic flags of the last flag-setting instruction, kept as its inputs and result so the
 * six flags (CF, PF, AF, ZF, SF, OF) are computed only when an instruction reads them. Most
 * results are overwritten before anybody looks (Bochs' lazy flags, cpu/lazy_flags.h; QEMU's
 * CC_OP). The ISA side owns the encoding of {@link #op}; {@code Flags} materializes them.
 */
public final class LazyFlags {
    /** Which operation set the flags, or a "materialized" marker meaning {@link #materialized} holds them. */
    public int op;
    public long dst, src, result;
    /** Operand size in bytes of that operation: 1, 2, 4 or 8. */
    public int size;
    /** The six flags in their RFLAGS bit positions, valid when {@link #op} is the materialized marker. */
    public long materialized;
}
