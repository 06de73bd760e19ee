package dev.jkvm.images;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Port;

/**
 * The hello kernel's logic, in the Java subset: compiled to x86-64 by kernel-lib's compiler for
 * the image, and an ordinary static method on the host JVM (where Console collects the text).
 */
public final class HelloMain {
    /** QEMU's isa-debug-exit iobase used by the tests: the process exits with (value << 1) | 1. */
    static final int DEBUG_EXIT_PORT = 0xF4;

    private HelloMain() {
    }

    public static void main() {
        Console.print("Hello from jkvm\n");
        Console.print("compiled Java says 6 * 7 = ");
        Console.printHex(product(6, 7));
        Console.print("\n");
        Port.out32(DEBUG_EXIT_PORT, 0);
    }

    /** A call into another compiled method, so the image shows more than an intrinsic. */
    static long product(int a, int b) {
        return (long) a * b;
    }
}
