package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Names code addresses for crash reports from the symbol table the image builder puts in rodata
 * (KernelLayout.SYMBOLS: count, then address and name pairs, in any order): the kernel's text and
 * the user-mode text that follows it.
 */
public final class Symbols {
    private Symbols() {
    }

    /** Prints " <name+0xoff>" for the nearest symbol at or below a code address, else nothing. */
    public static void print(long address) {
        if (address < KernelLayout.get(KernelLayout.TEXT_START) || address >= KernelLayout.get(KernelLayout.USER_TEXT_END)) {
            return;
        }
        long table = KernelLayout.get(KernelLayout.SYMBOLS);
        long count = Memory.load64(table);
        long best = -1;
        long bestAddress = 0;
        for (long i = 0; i < count; i++) {
            long at = Memory.load64(table + 8 + i * 16);
            if (at <= address && at >= bestAddress) {
                best = i;
                bestAddress = at;
            }
        }
        if (best < 0) {
            return;
        }
        Console.print(" <");
        Log.puts(Memory.load64(table + 16 + best * 16));
        if (address != bestAddress) {
            Console.print("+");
            Log.hex(address - bestAddress);
        }
        Console.print(">");
    }
}
