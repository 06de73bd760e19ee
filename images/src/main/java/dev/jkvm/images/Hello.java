package dev.jkvm.images;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.image.LongModeBoot;
import dev.jkvm.klib.image.SerialConsole;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The smallest jkvm kernel: enters long mode itself, then runs {@link HelloMain#main()} — Java
 * compiled by kernel-lib's compiler — which prints over COM1 and exits through QEMU's
 * isa-debug-exit device. Here lives only the entry; SerialConsole supplies the routines the
 * compiled Console calls turn into. {@code main} writes the image.
 */
public final class Hello {
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

        SerialConsole.defineExternals(a, unit.externals(), "hello");

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
