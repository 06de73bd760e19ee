package dev.jkvm.klib.kernel.console;

import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;

/**
 * Number formatting on the kernel console (COM1). Console.print only takes literals, so digits
 * go out one character at a time through the PUTC routine.
 *
 * Output is line-atomic across CPUs (issue 14): once bufferLines has run, every byte a CPU prints
 * goes to that CPU's own line buffer (interrupts off while it is appended), and a whole line goes
 * to COM1 at its newline under one output lock (build.LowLevelRoutines, kernel_put_byte). Lines
 * longer than LINE_CAPACITY go out in pieces of that size. A line is a CPU's, not a task's: a task
 * preempted in the middle of a line on its CPU may have the next task's text appended to it there.
 * Reports of several lines that belong together (user faults, ring-3 writes, crashes) also take
 * the console lock (beginLine/endLine, lockForCrash) so no other such report comes between them.
 */
public final class Log {
    private Log() {
    }

    public static final String PUTC = "kernel_putc";
    /** Prints the NUL-terminated bytes at rdi. */
    public static final String PUTS = "kernel_puts";

    /** The slot of PerCpuArea's reserved line with the address of the CPU's line buffer (0: none). */
    public static final int CONSOLE_LINE_SLOT = 48;
    /** A line buffer: its length (32 bits) at +0, the bytes from +LINE_BYTES. */
    public static final int LINE_BUFFER_SIZE = 512;
    public static final int LINE_BYTES = 8;
    public static final int LINE_CAPACITY = LINE_BUFFER_SIZE - LINE_BYTES;
    /** Writes out this CPU's unfinished line. */
    public static final String FLUSH = "kernel_console_flush";
    /** Turns line buffering on for every CPU whose area has a buffer. */
    public static final String BUFFER_LINES = "kernel_console_buffer_lines";
    /** After a panic: a CPU gives up waiting for the output lock after a bounded spin. */
    public static final String EMERGENCY = "kernel_console_emergency";

    /** Turns line buffering on; CPUs whose CONSOLE_LINE_SLOT is 0 still write straight out. */
    public static void bufferLines() {
        Asm.call(BUFFER_LINES);
    }

    /** Writes this CPU's unfinished line out (before the machine stops). */
    public static void flush() {
        Asm.call(FLUSH);
    }

    /** A panic is under way: waiting for the output lock is bounded from now on. */
    public static void emergency() {
        Asm.call(EMERGENCY);
    }

    public static void putc(int c) {
        Asm.call(PUTC, c);
    }

    public static void puts(long address) {
        Asm.call(PUTS, address);
    }

    public static void dec(long value) {
        if (value < 0) {
            putc('-');
            if (value == Long.MIN_VALUE) {
                Console.print("9223372036854775808");
                return;
            }
            value = -value;
        }
        if (value >= 10) {
            dec(value / 10);
        }
        putc((int) ('0' + value % 10));
    }

    /** 0x followed by the hex digits without leading zeros. */
    public static void hex(long value) {
        Console.print("0x");
        hexDigits(value, 1);
    }

    /** Exactly 16 hex digits after 0x: the form Console.printHex promises. */
    public static void hex16(long value) {
        Console.print("0x");
        hexDigits(value, 16);
    }

    private static void hexDigits(long value, int minimum) {
        if ((value >>> 4) != 0 || minimum > 1) {
            hexDigits(value >>> 4, minimum - 1);
        }
        int digit = (int) (value & 15);
        putc(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }

    public static void lock() {
        TicketSpinLock.lock(KernelLayout.get(KernelLayout.CONSOLE_LOCK));
    }

    public static void unlock() {
        TicketSpinLock.unlock(KernelLayout.get(KernelLayout.CONSOLE_LOCK));
    }

    /**
     * Begins a line that may be printed while other CPUs print too (user fault reports, ring-3
     * writes): interrupts off, so the holder is never preempted or interrupted into another
     * printer on its own CPU, then the console lock. Returns whether interrupts were on, for
     * endLine.
     */
    public static boolean beginLine() {
        boolean wasEnabled = InterruptFlag.enabled();
        Cpu.cli();
        lock();
        return wasEnabled;
    }

    public static void endLine(boolean interruptsWereEnabled) {
        unlock();
        if (interruptsWereEnabled) {
            Cpu.sti();
        }
    }

    /** Takes the lock unless another CPU keeps it for a while (crash paths must print anyway). */
    public static boolean lockForCrash() {
        long lock = KernelLayout.get(KernelLayout.CONSOLE_LOCK);
        for (int i = 0; i < 100000; i++) {
            if (TicketSpinLock.tryLock(lock)) {
                return true;
            }
        }
        return false;
    }
}
