package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.image.LongModeBoot;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Evidence for {@link QemuDeviations}' SYSCALL rule: a kernel sets CF, PF and ZF, executes SYSCALL
 * with IA32_FMASK = IF only, and reports RFLAGS & (CF|PF|ZF) through isa-debug-exit. The SDM (Vol.
 * 2B SYSCALL: RFLAGS ← RFLAGS AND NOT IA32_FMASK) and hardware (QEMU with {@code -accel kvm}, when
 * /dev/kvm is usable) keep all three; QEMU 7.2 TCG clears them. When a QEMU update fixes TCG this
 * test fails, and the rule can go.
 */
class QemuSyscallDeviationTest {
    private static final int CF_PF_ZF = 0x45;

    @Test
    void tcgClearsArithmeticFlagsOnSyscallWhereHardwareKeepsThem() throws Exception {
        assumeTrue(QemuTarget.available(), "qemu-system-x86_64 is needed");
        Path kernel = probe();
        assertEquals(0, flagsAfterSyscall(kernel, "tcg"), "QEMU TCG still clears CF/PF/ZF on SYSCALL (the lockstep takes them from QEMU)");
        if (Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"))) {
            assertEquals(CF_PF_ZF, flagsAfterSyscall(kernel, "kvm"), "hardware keeps CF/PF/ZF through SYSCALL");
        }
    }

    /** Long mode, STAR/LSTAR/FMASK/EFER.SCE, flags set, SYSCALL; the handler writes RFLAGS & 0x45 to port 0xF4. */
    private static Path probe() throws Exception {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("start");
        Label handler = new Label("handler");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        a.bind(start);
        a.mov(ECX, 0xC0000081L).mov(EAX, 0).mov(EDX, 0x00100008).wrmsr();          // STAR: CS 8
        a.mov(ECX, 0xC0000082L).mov(RAX, handler).mov(RDX, RAX).shr(RDX, 32).wrmsr(); // LSTAR
        a.mov(ECX, 0xC0000084L).mov(EAX, 0x200).mov(EDX, 0).wrmsr();                // FMASK = IF
        a.mov(ECX, 0xC0000080L).rdmsr().or(EAX, 1).wrmsr();                         // EFER.SCE
        a.mov(EAX, 0).add(EAX, 0).stc();                                            // ZF PF, then CF
        a.syscall();
        a.bind(handler).pushf().pop(RAX).and(EAX, CF_PF_ZF).out(0xF4, AL).hlt();
        Path f = Files.createTempFile("lockstep-syscall", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }

    /** isa-debug-exit turns the value v into exit status (v << 1) | 1. */
    private static int flagsAfterSyscall(Path kernel, String accel) throws Exception {
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
