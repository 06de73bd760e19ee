package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.LongModeBoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Evidence for {@link QemuDeviations}' stack-fault note: in 64-bit mode a memory reference through
 * the SS segment (base RBP or RSP) at a non-canonical address raises #SS(0), one through DS #GP(0)
 * (SDM Vol. 3A §6.15 Interrupt 12 and 13, §3.3.7.1; Vol. 2A MOV "64-Bit Mode Exceptions"), and so do
 * hardware (QEMU with {@code -accel kvm}, when /dev/kvm is usable) and the emulated CPU (Mmu's
 * canonical check); QEMU 7.2 TCG raises #GP(0) for both (its canonical check is in the page walk,
 * which does not know the segment). The lockstep kernels therefore raise no non-canonical stack
 * reference; when a QEMU update fixes TCG this test fails, and {@link ExceptionKernel} can add one.
 */
class QemuStackFaultDeviationTest {
    @Test
    void tcgRaisesGpWhereHardwareRaisesSsForANonCanonicalStackReference() throws Exception {
        assumeTrue(QemuTarget.available(), "qemu-system-x86_64 is needed");
        Path kernel = probe();
        assertEquals(13, vectorRaised(kernel, "tcg"), "QEMU TCG still raises #GP(0) for [RBP] at a non-canonical address");
        if (Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"))) {
            assertEquals(12, vectorRaised(kernel, "kvm"), "hardware raises #SS(0) for [RBP] at a non-canonical address");
        }
    }

    /** Long mode, #SS and #GP gates whose handlers write their vector to port 0xF4; then MOV RAX, [RBP] with RBP = 2^63. */
    private static Path probe() throws Exception {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("set_gate");
        Label idt = new Label("idt");
        Label idtPointer = new Label("idt_pointer");
        Label ss = new Label("handler_ss");
        Label gp = new Label("handler_gp");
        a.bind(start);
        a.mov(RDI, 12).mov(RSI, ss).xor(EDX, EDX).call(setGate);
        a.mov(RDI, 13).mov(RSI, gp).xor(EDX, EDX).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        a.mov(RBP, 0x8000_0000_0000_0000L).mov(RAX, Mem.at(RBP)).hlt();
        IdtGate64.emitSetGate(a, setGate, idt);
        a.bind(ss).mov(AL, 12).out(0xF4, AL).hlt();
        a.bind(gp).mov(AL, 13).out(0xF4, AL).hlt();
        a.section("data", Section.Kind.DATA);
        a.align(16).bind(idt).db(new byte[14 * 16]);
        a.align(16).bind(idtPointer).dw(14 * 16 - 1).dq(idt);
        Path f = Files.createTempFile("lockstep-stack-fault", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }

    /** isa-debug-exit turns the value v into exit status (v << 1) | 1. */
    private static int vectorRaised(Path kernel, String accel) throws Exception {
        Process p = new ProcessBuilder(QemuTarget.BINARY, "-accel", accel, "-M", "pc", "-m", "64M", "-display", "none",
                "-nodefaults", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", kernel.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("QEMU (" + accel + ") did not exit within 60 s");
            return (p.exitValue() - 1) >> 1;
        } finally {
            p.destroyForcibly();
        }
    }
}
