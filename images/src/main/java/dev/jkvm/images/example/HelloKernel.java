package dev.jkvm.images.example;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.LongModeBoot;
import dev.jkvm.klib.image.SerialConsole;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Port;

import java.io.IOException;
import java.nio.file.Path;

/** The smallest kernel: Java that prints over COM1 and ends the VM. Needs only kernel-lib. */
public final class HelloKernel {
    private HelloKernel() {
    }

    /** The kernel's Java, in the subset: compiled for the guest, an ordinary method on the host JVM. */
    public static void run() {
        Console.print("Hello from jkvm\n");
        Port.out32(SerialConsole.DEBUG_EXIT_PORT, 0);   // isa-debug-exit: the VM ends with status 1
    }

    /** Writes the image to args[0]; boot it with scripts/run --kernel FILE or qemu -kernel FILE. */
    public static void main(String[] args) throws IOException {
        CompiledUnit unit = new JavaSubsetCompiler(HelloKernel.class.getClassLoader())
                .addMethod(HelloKernel.class.getName(), "run")
                .compile();
        Assembler a = unit.assembler();
        Label start = new Label("start");
        Label entry = LongModeBoot.emit(a, start);      // 32-bit multiboot entry -> long mode -> start
        Label halt = new Label("halt");
        a.section("text", Section.Kind.CODE);
        a.bind(start).call(unit.method(HelloKernel.class.getName(), "run", "()V"));
        a.bind(halt).cli().hlt().jmp(halt);             // should run return, stop instead of running on
        SerialConsole.defineExternals(a, unit.externals(), "hello");
        new ImageBuilder().add(a).entry(entry).build().writeTo(Path.of(args[0]));
    }
}
