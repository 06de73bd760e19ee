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
 * Evidence for {@link QemuDeviations}' stack-fault notes. First: in 64-bit mode a memory reference through
 * the SS segment (base RBP or RSP) at a non-canonical address raises #SS(0), one through DS #GP(0)
 * (SDM Vol. 3A §6.15 Interrupt 12 and 13, §3.3.7.1; Vol. 2A MOV "64-Bit Mode Exceptions"), and so do
 * hardware (QEMU with {@code -accel kvm}, when /dev/kvm is usable) and the emulated CPU (Mmu's
 * canonical check); QEMU 7.2 TCG raises #GP(0) for both (its canonical check is in the page walk,
 * which does not know the segment). The lockstep kernels therefore raise no non-canonical stack
 * reference; when a QEMU update fixes TCG this test fails, and {@link ExceptionKernel} can add one.
 * Second: IRETQ to a not-present SS (see the method).
 */
class QemuStackFaultDeviationTest {
    @Test
    void tcgRaisesGpWhereHardwareRaisesSsForANonCanonicalStackReference() throws Exception {
        assumeTrue(QemuTarget.available(), "qemu-system-x86_64 is needed");
        Path kernel = probe(a -> a.mov(RBP, 0x8000_0000_0000_0000L).mov(RAX, Mem.at(RBP)));
        assertEquals(13, vectorRaised(kernel, "tcg"), "QEMU TCG still raises #GP(0) for [RBP] at a non-canonical address");
        if (kvmUsable()) {
            assertEquals(12, vectorRaised(kernel, "kvm"), "hardware raises #SS(0) for [RBP] at a non-canonical address");
        }
    }

    /**
     * IRETQ whose SS selector names a not-present (writable, DPL-0) data segment: the SDM has
     * #SS(SS selector) (Vol. 2A IRET, "Protected Mode Exceptions": "#SS(selector) If the stack
     * segment is not present"), and so do KVM and the emulated CPU (the lockstep showed it when
     * ExceptionKernel tried the scenario); QEMU 7.2 raises #NP(SS selector).
     */
    @Test
    void tcgRaisesNpWhereTheSdmHasSsForIretToANotPresentStack() throws Exception {
        assumeTrue(QemuTarget.available(), "qemu-system-x86_64 is needed");
        Path kernel = probe(a -> {
            Label back = new Label("back");
            a.mov(RAX, RSP).push(0x20).push(RAX).pushf().push(LongModeBoot.CODE64_SELECTOR).mov(RAX, back).push(RAX).iretq();
            a.bind(back);
        });
        assertEquals(11, vectorRaised(kernel, "tcg"), "QEMU TCG still raises #NP for IRETQ to a not-present SS");
        if (kvmUsable()) {
            assertEquals(12, vectorRaised(kernel, "kvm"), "KVM raises #SS for IRETQ to a not-present SS");
        }
    }

    private static boolean kvmUsable() {
        return Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
    }

    /**
     * Long mode, a GDT with a not-present data segment at 0x20, #NP, #SS and #GP gates whose handlers
     * write their vector to port 0xF4; then {@code scenario}.
     */
    private static Path probe(java.util.function.Consumer<Assembler> scenario) throws Exception {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("set_gate");
        Label idt = new Label("idt");
        Label idtPointer = new Label("idt_pointer");
        Label gdt = new Label("gdt");
        Label gdtPointer = new Label("gdt_pointer");
        Label[] handlers = {new Label("handler_np"), new Label("handler_ss"), new Label("handler_gp")};
        a.bind(start);
        for (int v = 11; v <= 13; v++) a.mov(RDI, v).mov(RSI, handlers[v - 11]).xor(EDX, EDX).call(setGate);
        a.lidt(Mem.abs(idtPointer)).lgdt(Mem.abs(gdtPointer));
        scenario.accept(a);
        a.mov(AL, 0xEE).out(0xF4, AL).hlt();                                           // no exception: 0xEE
        IdtGate64.emitSetGate(a, setGate, idt);
        for (int v = 11; v <= 13; v++) a.bind(handlers[v - 11]).mov(AL, v).out(0xF4, AL).hlt();
        a.section("data", Section.Kind.DATA);
        // LongModeBoot's code (0x08) and data (0x10) descriptors, 0x18 unused, 0x20 data not present.
        a.align(16).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0, 0x00CF12000000FFFFL);
        a.align(16).bind(gdtPointer).dw(5 * 8 - 1).dq(gdt);
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
