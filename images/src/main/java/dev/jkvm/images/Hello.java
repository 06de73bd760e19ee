package dev.jkvm.images;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.compiler.SymbolNames;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The smallest jkvm kernel: enters long mode itself, then runs {@link HelloMain#main()} — Java
 * compiled by kernel-lib's compiler — which prints over COM1 and exits through QEMU's
 * isa-debug-exit device. Here live only the pieces the compiled code needs from assembly: the
 * entry, and the console routines its Console calls turn into. {@code main} writes the image.
 */
public final class Hello {
    /** COM1 base port; its line status register is at +5 with THR-empty in bit 5 (16550 UART). */
    static final int COM1 = 0x3F8;
    private static final int LINE_STATUS = 5;
    private static final int TRANSMITTER_EMPTY = 1 << 5;
    /** What the image prints, for tests. */
    static final String OUTPUT = "Hello from jkvm\ncompiled Java says 6 * 7 = 0x000000000000002a\n";

    private Hello() {
    }

    /** Compiles HelloMain, assembles the glue and links the image. */
    public static KernelImage build() {
        CompiledUnit unit = new JavaSubsetCompiler(Hello.class.getClassLoader())
                .addMethod(HelloMain.class.getName(), "main")
                .compile();
        Assembler a = unit.assembler();
        Label main = unit.method(HelloMain.class.getName(), "main", "()V");
        Label start = new Label("hello_start");
        Label entry = LongModeBoot.emit(a, start);

        a.section("text", Section.Kind.CODE);
        Label halt = new Label("hello_halt");
        a.bind(start).xor(EBP, EBP).call(main);
        a.bind(halt).cli().hlt().jmp(halt);

        Label putc = new Label("serial_putc");
        // Sorted, so the image is byte-for-byte reproducible whatever map the compiler hands back.
        for (Map.Entry<String, Label> external : new java.util.TreeMap<>(unit.externals()).entrySet()) {
            switch (external.getKey()) {
                case SymbolNames.CONSOLE_PRINT -> emitPrint(a, external.getValue(), putc);
                case SymbolNames.CONSOLE_PRINT_HEX -> emitPrintHex(a, external.getValue(), putc);
                default -> throw new IllegalStateException("hello's Java calls " + external.getKey() + ", which Hello does not define");
            }
        }
        // serial_putc: writes BL to COM1 once the transmitter holding register is empty.
        a.bind(putc);
        Label wait = new Label();
        a.mov(DX, COM1 + LINE_STATUS);
        a.bind(wait).in(AL, DX).test(AL, TRANSMITTER_EMPTY).jcc(Cond.E, wait);
        a.mov(DX, COM1).mov(AL, BL).out(DX, AL).ret();

        return new ImageBuilder().add(a).entry(entry).build();
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

    /** Writes the image to {@code args[0]} and prints the size report. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Hello <output.elf>");
            System.exit(2);
        }
        KernelImage image = build();
        Path out = Path.of(args[0]);
        image.writeTo(out);
        System.out.print("hello image " + out + "\n" + image.sizeReport());
    }
}
