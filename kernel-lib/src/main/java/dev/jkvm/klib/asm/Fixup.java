package dev.jkvm.klib.asm;

/**
 * A label-dependent field inside an instruction or data fragment: resolved in place when the
 * target lies in the same section and the kind is PC-relative, otherwise turned into a
 * {@link Relocation}. {@code position} is relative to the fragment (or instruction) start.
 */
record Fixup(int position, Relocation.Kind kind, Label target, long addend) {
    Fixup shifted(int by) {
        return new Fixup(position + by, kind, target, addend);
    }
}
