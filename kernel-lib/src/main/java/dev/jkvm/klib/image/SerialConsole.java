package dev.jkvm.klib.image;

import dev.jkvm.klib.arch.Com1;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.compiler.SymbolNames;

import java.util.Map;
import java.util.TreeMap;

/**
 * The routines compiled Java's Console and panic calls turn into, for small images: polled COM1
 * output (16550: THR-empty is bit 5 of the line status register at base + 5) and panics that
 * print the site and stop through isa-debug-exit. Only port I/O is used, so they also work in
 * ring 3 when RFLAGS.IOPL is 3.
 */
public final class SerialConsole {
    public static final int COM1 = Com1.PORT;
    /** isa-debug-exit iobase used everywhere in jkvm: status (value << 1) | 1. */
    public static final int DEBUG_EXIT_PORT = 0xF4;
    /** Debug-exit value of a panic: process status 255, distinct from any test's. */
    public static final int PANIC_EXIT_VALUE = 0x7F;

    private SerialConsole() {
    }

    /**
     * Defines every external the compiled unit calls that this class knows (console and panics),
     * in name order so the image is reproducible; fails on any other external.
     */
    public static void defineExternals(Assembler a, Map<String, Label> externals, String imageName) {
        Label putc = new Label("serial_putc");
        Label puts = new Label("serial_puts");
        for (Map.Entry<String, Label> external : new TreeMap<>(externals).entrySet()) {
            switch (external.getKey()) {
                case SymbolNames.CONSOLE_PRINT -> emitPrint(a, external.getValue(), putc);
                case SymbolNames.CONSOLE_PRINT_HEX -> emitPrintHex(a, external.getValue(), putc);
                case SymbolNames.PANIC_DIVIDE_BY_ZERO, SymbolNames.PANIC_ARRAY_INDEX ->
                        emitPanic(a, external.getValue(), puts, external.getKey());
                default -> throw new IllegalStateException(imageName + "'s Java calls " + external.getKey()
                        + ", which " + imageName + " does not define");
            }
        }
        // serial_puts: the NUL-terminated string at RDI.
        Label next = new Label();
        Label done = new Label();
        a.bind(puts).push(RBX);
        a.bind(next).mov(BL, Mem.at(RDI).m8()).test(BL, BL).jcc(Cond.E, done);
        a.call(putc).inc(RDI).jmp(next);
        a.bind(done).pop(RBX).ret();
        // serial_putc: writes BL to COM1 once the transmitter holding register is empty.
        Label wait = new Label();
        a.bind(putc).mov(DX, Com1.LINE_STATUS);
        a.bind(wait).in(AL, DX).test(AL, Com1.TRANSMITTER_EMPTY).jcc(Cond.E, wait);
        a.mov(DX, COM1).mov(AL, BL).out(DX, AL).ret();
    }

    /** klib_console_print(rdi = bytes, rsi = length); keeps the callee-saved RBX intact. */
    private static void emitPrint(Assembler a, Label print, Label putc) {
        Label next = new Label();
        Label done = new Label();
        a.bind(print).push(RBX);
        a.bind(next).test(RSI, RSI).jcc(Cond.E, done);
        a.mov(BL, Mem.at(RDI).m8()).call(putc).inc(RDI).dec(RSI).jmp(next);
        a.bind(done).pop(RBX).ret();
    }

    /** klib_console_print_hex(rdi = value): "0x" and sixteen hex digits, as Console.printHex on the host. */
    private static void emitPrintHex(Assembler a, Label printHex, Label putc) {
        Label digit = new Label();
        Label decimal = new Label();
        a.bind(printHex).push(RBX);
        a.mov(BL, '0').call(putc).mov(BL, 'x').call(putc);
        a.mov(ECX, 16);
        a.bind(digit).rol(RDI, 4).mov(RBX, RDI).and(EBX, 0xF).add(BL, '0');
        a.cmp(BL, '9').jcc(Cond.BE, decimal).add(BL, 'a' - '0' - 10);
        a.bind(decimal).push(RCX).call(putc).pop(RCX).dec(ECX).jcc(Cond.NE, digit);
        a.pop(RBX).ret();
    }

    /** A panic routine: "panic: <symbol> at <site>" (site text in RDI), then debug-exit 0x7F. */
    private static void emitPanic(Assembler a, Label panic, Label puts, String symbol) {
        Label text = new Label();
        Label halt = new Label();
        a.section("rodata", dev.jkvm.klib.asm.Section.Kind.RODATA);
        a.bind(text).asciz("\npanic: " + symbol + " at ");
        a.section("text", dev.jkvm.klib.asm.Section.Kind.CODE);
        a.bind(panic).push(RDI).lea(RDI, Mem.rip(text)).call(puts).pop(RDI).call(puts);
        a.mov(DX, DEBUG_EXIT_PORT).mov(EAX, PANIC_EXIT_VALUE).out(DX, EAX);
        a.bind(halt).jmp(halt);
    }
}
