package dev.jkvm.images;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;

/**
 * The 32-bit multiboot entry into long mode, now kernel-lib's (dev.jkvm.klib.image.LongModeBoot):
 * this class only delegates, for the images that still name it.
 */
public final class LongModeBoot {
    public static final int CODE64_SELECTOR = dev.jkvm.klib.image.LongModeBoot.CODE64_SELECTOR;
    public static final int DATA_SELECTOR = dev.jkvm.klib.image.LongModeBoot.DATA_SELECTOR;

    private LongModeBoot() {
    }

    /** See dev.jkvm.klib.image.LongModeBoot#emit. */
    public static Label emit(Assembler a, Label longModeEntry) {
        return dev.jkvm.klib.image.LongModeBoot.emit(a, longModeEntry);
    }
}
