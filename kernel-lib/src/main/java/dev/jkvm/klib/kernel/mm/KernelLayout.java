package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * Addresses the image builder only knows after layout, read by kernel code from a table of
 * 64-bit words in rodata (the build writes them in this index order; SYMBOL returns its address).
 */
public final class KernelLayout {
    private KernelLayout() {
    }

    public static final String SYMBOL = "kernel_layout";

    /** First byte of the image (ELF and multiboot headers), page aligned. */
    public static final int IMAGE_START = 0;
    /** First byte of code, page aligned. */
    public static final int TEXT_START = 1;
    /** End of code; read-only data starts at the next page. */
    public static final int TEXT_END = 2;
    /** End of read-only data; writable data starts at the next page. */
    public static final int RODATA_END = 3;
    /** End of data and bss: the boot allocator starts at the next page. */
    public static final int IMAGE_END = 4;
    /** Template of a per-CPU area and its size in bytes. */
    public static final int PER_CPU_TEMPLATE = 5;
    public static final int PER_CPU_TEMPLATE_SIZE = 6;
    /** The per-CPU area of the boot CPU (in bss, set up before any compiled code runs). */
    public static final int BSP_PER_CPU = 7;
    /** The boot CPU's stack: its guard page and the top. */
    public static final int BSP_STACK_GUARD = 8;
    public static final int BSP_STACK_TOP = 9;
    /** 256 addresses of the interrupt entry stubs, one per vector. */
    public static final int TRAP_STUBS = 10;
    /** The AP trampoline as linked for ApTrampoline.ADDRESS, and its size. */
    public static final int TRAMPOLINE = 11;
    public static final int TRAMPOLINE_SIZE = 12;
    /** Where the trampoline jumps in 64-bit mode (rdi = CPU index, rsp = its stack). */
    public static final int AP_ENTRY = 13;
    /** Symbol table for backtraces: count, then (address, NUL-terminated name address) pairs. */
    public static final int SYMBOLS = 14;
    /** The multiboot information address the boot loader passed (0 without multiboot magic). */
    public static final int MULTIBOOT_INFO = 15;
    /** 64 bytes of bss for the console lock. */
    public static final int CONSOLE_LOCK = 16;
    /** End of kernel data: user data starts at the next page. */
    public static final int DATA_END = 17;
    /** Ends of the user-mode text, rodata and data (build.UserSpaceBuild), each page aligned. */
    public static final int USER_TEXT_END = 18;
    public static final int USER_RODATA_END = 19;
    public static final int USER_DATA_END = 20;
    /** Addresses of the user programs' entry stubs, indexed by user.UserPrograms numbers. */
    public static final int USER_ENTRIES = 21;
    /** The SYSCALL entry (IA32_LSTAR): a user-mode page fault on it is a system call too (kernel.Traps). */
    public static final int SYSCALL_ENTRY = 22;
    /**
     * The line table of all compiled Java, kernel and user (trap.SourceLines): count, then
     * (address, frame text address or 0 after a method's end, line) triples, in any order.
     */
    public static final int SOURCE_LINES = 23;
    /** The user routines a failed divide-by-zero and array-index check call (each a UD2), or 0. */
    public static final int USER_DIVIDE_BY_ZERO = 24;
    public static final int USER_ARRAY_INDEX = 25;
    public static final int ENTRIES = 26;

    public static long get(int index) {
        return Memory.load64(Asm.call(SYMBOL) + index * 8L);
    }
}
