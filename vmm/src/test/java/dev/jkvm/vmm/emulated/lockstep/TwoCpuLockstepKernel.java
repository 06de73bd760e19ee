package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.image.ImageBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A two-vCPU kernel for {@code SmpLockstepTest}. The BSP, in the multiboot entry's flat 32-bit
 * protected mode, copies a real-mode trampoline to 0x8000, points IVT entry 2 (NMI) at its
 * handler, and starts the AP with INIT and SIPI (vector 8: CS 0x0800, IP 0; SDM Vol. 3A §9.4.4.1).
 * The AP sets a flag at 0x7F00 and waits in HLT. When the BSP has seen the flag it reaches
 * {@link #LOCKSTEP}, where both CPUs run in lockstep: the BSP sends an NMI IPI to APIC ID 1 (ICR
 * delivery mode 100b, physical destination, SDM §10.6.1); the AP wakes from HLT, takes the NMI
 * through its IVT (the handler counts at 0x7F02 and copies the frame into BX, CX, DX) and halts
 * again; the BSP reads the count.
 */
final class TwoCpuLockstepKernel {
    static final String LOCKSTEP = "smp_lockstep";
    static final String BSP_READ = "smp_bsp_read";
    static final String END = "smp_end";
    static final int READY = 0x7F00, COUNT = 0x7F02;

    private TwoCpuLockstepKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        a.section("text", Section.Kind.CODE);
        Label entry = new Label("smp_entry");
        Label stack = new Label("smp_stack_top");
        Label tramp = new Label("smp_trampoline");
        Label trampEnd = new Label("smp_trampoline_end");
        Label handler = new Label("smp_ap_nmi");
        Label wait = new Label("smp_wait");

        a.bind(entry).cli().mov(ESP, stack);
        a.mov(ESI, tramp).mov(EDI, 0x8000).mov(ECX, trampEnd).sub(ECX, ESI).rep().movsb();
        a.mov(EAX, handler).mov(EDX, tramp).sub(EAX, EDX).mov(Mem.abs(2 * 4).m16(), AX).mov(Mem.abs(2 * 4 + 2).m16(), 0x0800);
        a.mov(Mem.abs(READY).m8(), 0).mov(Mem.abs(COUNT).m16(), 0);
        a.mov(Mem.abs(0xFEE0_0310L).m32(), 1 << 24).mov(Mem.abs(0xFEE0_0300L).m32(), 0x4500);   // INIT to APIC ID 1
        a.mov(Mem.abs(0xFEE0_0310L).m32(), 1 << 24).mov(Mem.abs(0xFEE0_0300L).m32(), 0x4608);   // SIPI, vector 8
        a.bind(wait).pause().cmp(Mem.abs(READY).m8(), 1).jcc(Cond.NE, wait);
        a.bind(new Label(LOCKSTEP));
        a.mov(Mem.abs(0xFEE0_0310L).m32(), 1 << 24).mov(Mem.abs(0xFEE0_0300L).m32(), 0x4400);   // NMI to APIC ID 1
        a.nop();
        a.bind(new Label(BSP_READ)).movzx(EAX, Mem.abs(COUNT).m16()).nop();
        a.bind(new Label(END)).hlt();

        // The AP's real-mode trampoline, position-independent (copied to 0x8000, run at CS 0x0800).
        a.setMode(Mode.REAL16);
        a.bind(tramp);
        Label halt = new Label("smp_ap_halt");
        a.xor(AX, AX).mov(SegReg.DS, AX).mov(SegReg.SS, AX).mov(SP, 0x7000);
        a.mov(Mem.abs(READY).m8(), 1);
        a.bind(halt).hlt().jmp(halt);
        a.bind(handler);
        a.inc(Mem.abs(COUNT).m16());
        a.mov(BP, SP).mov(BX, Mem.at(BP)).mov(CX, Mem.at(BP, 2)).mov(DX, Mem.at(BP, 4)).iret();
        a.bind(trampEnd);
        a.setMode(Mode.PROTECTED32);

        a.section("data", Section.Kind.DATA);
        a.align(16).db(new byte[4096]).bind(stack);
        Path f = Files.createTempFile("lockstep-smp", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
