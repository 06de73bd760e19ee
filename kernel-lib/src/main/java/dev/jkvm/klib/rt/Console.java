package dev.jkvm.klib.rt;

/**
 * Kernel console output. Compiled code calls the kernel's console routines:
 * klib_console_print(rdi = address of the literal's bytes, rsi = byte length; the bytes are
 * also NUL-terminated) and klib_console_print_hex(rdi = value). The argument of print must be a
 * string literal (a compile-time constant). On the host JVM output goes to a buffer and stdout.
 */
public final class Console {
    private Console() {
    }

    private static final StringBuilder HOST_OUTPUT = new StringBuilder();

    /** Host JVM only: everything printed so far. */
    public static synchronized String hostOutput() {
        return HOST_OUTPUT.toString();
    }

    /** Host JVM only: forgets the printed output. */
    public static synchronized void hostClear() {
        HOST_OUTPUT.setLength(0);
    }

    public static synchronized void print(String literal) {
        HOST_OUTPUT.append(literal);
        System.out.print(literal);
    }

    /** Prints the value as 16 lowercase hex digits with a 0x prefix. */
    public static synchronized void printHex(long value) {
        String text = String.format("0x%016x", value);
        HOST_OUTPUT.append(text);
        System.out.print(text);
    }
}
