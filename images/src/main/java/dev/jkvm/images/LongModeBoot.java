package dev.jkvm.images;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;

/**
 * The 32-bit multiboot entry into long mode, now kernel-lib's (dev.jkvm.klib.image.LongModeBoot):
 * this class only delegates. The images use kernel-lib's directly; vmm's lockstep tests
 * (emulated/lockstep) still name this one, and it goes once they import kernel-lib's.
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
