package dev.jkvm.vmm.emulated.lockstep;

import dev.jkvm.klib.image.LongModeBoot;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The random programs' host: a multiboot kernel built with the project's assembler and image
 * builder that enters 64-bit long mode through {@link LongModeBoot} (identity-mapped first GiB,
 * flat segments, CPL 0, interrupts off), turns SSE on and jumps to a program area filled with HLT. The harness
 * stops QEMU at the program area, then writes each program and its data buffer there.
 */
final class LockstepKernel {
    static final int PROGRAM_BYTES = 64 * 1024;
    static final int BUFFER_BYTES = 4096;

    final KernelImage image;
    final Path file;
    final long program;
    final long buffer;

    private LockstepKernel(KernelImage image, Path file) {
        this.image = image;
        this.file = file;
        this.program = image.symbols().get("lockstep_program");
        this.buffer = image.symbols().get("lockstep_buffer");
    }

    static LockstepKernel build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label program = new Label("lockstep_program");
        Label setup = new Label("lockstep_setup");
        Label entry = LongModeBoot.emit(a, setup);
        a.section("text", Section.Kind.CODE);
        // SSE on: CR4.OSFXSR | OSXMMEXCPT (SDM Vol. 3A §13.1.3); CR0.EM is already clear.
        a.bind(setup).mov(Reg.RAX, CtrlReg.CR4).or(Reg.RAX, 0x600).mov(CtrlReg.CR4, Reg.RAX).jmp(program);
        a.align(4096);
        a.bind(program);
        byte[] halts = new byte[PROGRAM_BYTES];
        Arrays.fill(halts, (byte) 0xF4);
        a.db(halts);
        a.section("data", Section.Kind.DATA);
        a.align(4096).bind(new Label("lockstep_buffer")).db(new byte[BUFFER_BYTES]);
        KernelImage image = new ImageBuilder().add(a).entry(entry).build();
        Path f = Files.createTempFile("lockstep-kernel", ".elf");
        f.toFile().deleteOnExit();
        image.writeTo(f);
        return new LockstepKernel(image, f);
    }
}
