package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Label;

/**
 * A static final primitive array placed in read-only data.
 *
 * @param label        start of the elements
 * @param length       element count
 * @param elementBits  8, 16, 32 or 64
 * @param signed       whether elements narrower than int sign-extend (byte, short) or not
 *                     (boolean, char)
 */
record ConstantArray(Label label, int length, int elementBits, boolean signed) {
}
