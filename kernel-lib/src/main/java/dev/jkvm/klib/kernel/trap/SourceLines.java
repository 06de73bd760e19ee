package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Java source positions of compiled code, kernel and user alike, from the line table the image
 * builder puts in rodata (KernelLayout.SOURCE_LINES, build.SourceLineTable: the class files'
 * LineNumberTable and SourceFile attributes). A row covers the code from its address up to the
 * next row's; a row without frame text ends a method, so hand-written routines map to nothing.
 */
public final class SourceLines {
    private SourceLines() {
    }

    private static final int ROW = 24;

    /** The row covering this code address (its address for frame and line), or 0 when none does. */
    public static long find(long address) {
        long table = KernelLayout.get(KernelLayout.SOURCE_LINES);
        if (table == 0) {
            return 0;
        }
        long count = Memory.load64(table);
        long best = 0;
        long bestAddress = 0;
        for (long i = 0; i < count; i++) {
            long row = table + 8 + i * ROW;
            long at = Memory.load64(row);
            // On equal addresses the later row wins: an empty method's end row and the next one's start.
            if (at <= address && at >= bestAddress) {
                best = row;
                bestAddress = at;
            }
        }
        if (best == 0 || Memory.load64(best + 8) == 0) {
            return 0;
        }
        return best;
    }

    /** Prints "pkg.Class.method(File.java:LINE)" for a row find returned. */
    public static void print(long row) {
        Log.puts(Memory.load64(row + 8));
        long line = Memory.load64(row + 16);
        if (line >= 0) {
            Console.print(":");
            Log.dec(line);
        }
        Console.print(")");
    }

    /** Prints " at pkg.Class.method(File.java:LINE)" when the address is compiled Java, else nothing. */
    public static void printAt(long address) {
        long row = find(address);
        if (row != 0) {
            Console.print(" at ");
            print(row);
        }
    }
}
