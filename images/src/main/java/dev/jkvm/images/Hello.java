package dev.jkvm.images;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The smallest jkvm kernel: enters long mode itself, prints "Hello from jkvm" on COM1 and
 * exits through QEMU's isa-debug-exit device. {@code main} writes it to the path given.
 */
public final class Hello {
    /** COM1 base port; its line status register is at +5 with THR-empty in bit 5 (16550 UART). */
    static final int COM1 = 0x3F8;
    private static final int LINE_STATUS = 5;
    private static final int TRANSMITTER_EMPTY = 1 << 5;
    /** isa-debug-exit iobase used by the tests; QEMU exits with status (value << 1) | 1. */
    static final int DEBUG_EXIT_PORT = 0xF4;
    static final String MESSAGE = "Hello from jkvm\n";

    private Hello() {
    }

    /** Assembles and links the image. */
    public static KernelImage build() {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label main = new Label("hello_main");
        Label putc = new Label("serial_putc");
        Label message = new Label("hello_message");
        Label entry = LongModeBoot.emit(a, main);

        a.section("rodata", Section.Kind.RODATA);
        a.bind(message).asciz(MESSAGE);

        a.section("text", Section.Kind.CODE);
        Label next = new Label();
        Label done = new Label();
        Label halt = new Label("hello_halt");
        a.bind(main);
        a.lea(RSI, Mem.rip(message));
        a.bind(next).mov(BL, Mem.at(RSI).m8());
        a.test(BL, BL).jcc(Cond.E, done);
        a.call(putc).inc(RSI).jmp(next);
        a.bind(done);
        a.mov(DX, DEBUG_EXIT_PORT).xor(EAX, EAX).out(DX, EAX);
        a.bind(halt).cli().hlt().jmp(halt);

        // serial_putc: writes BL to COM1 once the transmitter holding register is empty.
        a.bind(putc);
        Label wait = new Label();
        a.mov(DX, COM1 + LINE_STATUS);
        a.bind(wait).in(AL, DX).test(AL, TRANSMITTER_EMPTY).jcc(Cond.E, wait);
        a.mov(DX, COM1).mov(AL, BL).out(DX, AL).ret();

        return new ImageBuilder().add(a).entry(entry).build();
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
