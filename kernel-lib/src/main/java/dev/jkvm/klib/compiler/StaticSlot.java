package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Mem;

/**
 * Where a primitive static field lives: a RIP-relative address in the data section, or a
 * GS-relative offset in the per-CPU area.
 *
 * @param address memory operand without size
 * @param bits    8, 16, 32 or 64
 * @param signed  whether a narrow value sign-extends when read (byte, short) or zero-extends
 *                (boolean, char)
 */
record StaticSlot(Mem address, int bits, boolean signed) {
}
