package dev.jkvm.images;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;

import java.util.Map;

/**
 * Polled COM1 console and panic routines for small images, now kernel-lib's
 * (dev.jkvm.klib.image.SerialConsole): this class only delegates, for the images that still name it.
 */
public final class SerialConsole {
    static final int COM1 = dev.jkvm.klib.image.SerialConsole.COM1;
    public static final int DEBUG_EXIT_PORT = dev.jkvm.klib.image.SerialConsole.DEBUG_EXIT_PORT;
    public static final int PANIC_EXIT_VALUE = dev.jkvm.klib.image.SerialConsole.PANIC_EXIT_VALUE;

    private SerialConsole() {
    }

    /** See dev.jkvm.klib.image.SerialConsole#defineExternals. */
    public static void defineExternals(Assembler a, Map<String, Label> externals, String imageName) {
        dev.jkvm.klib.image.SerialConsole.defineExternals(a, externals, imageName);
    }
}
