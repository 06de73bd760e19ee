/**
 * An x86 assembler for 16-, 32- and 64-bit code, checked byte for byte against GNU as.
 *
 * <p>Entry point: {@link dev.jkvm.klib.asm.Assembler}. Operands are {@link dev.jkvm.klib.asm.Reg},
 * {@link dev.jkvm.klib.asm.Mem}, {@link dev.jkvm.klib.asm.SegReg}, {@link dev.jkvm.klib.asm.CtrlReg},
 * {@code long} immediates and {@link dev.jkvm.klib.asm.Label}s. Output goes to named
 * {@link dev.jkvm.klib.asm.Section}s; references that depend on load addresses become
 * {@link dev.jkvm.klib.asm.Relocation}s, applied by {@link dev.jkvm.klib.asm.SectionPlacement}
 * once sections have addresses: for the image builder ({@link dev.jkvm.klib.image.ImageBuilder}),
 * the host test loaders and, for a self-contained section, {@link dev.jkvm.klib.asm.Section#linkAt(long)}.
 * Every encoding error is an {@link dev.jkvm.klib.asm.AsmException} naming the instruction.
 */
package dev.jkvm.klib.asm;
