package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.arch.Com1;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;

import java.util.function.Function;

/**
 * The few routines compiled code cannot express: serial output, descriptor-table loads, RFLAGS,
 * GS-relative reads and writes (per-CPU data), string moves and halting. Each is a leaf under the compiler's calling
 * convention (CallingConvention: arguments in rdi, rsi, rdx; result in rax), named by symbol
 * for Asm.call.
 */
final class LowLevelRoutines {
    private LowLevelRoutines() {
    }


    static void emit(Assembler a, Function<String, Label> symbol, Label layoutTable) {
        a.section("text", Section.Kind.CODE);
        Label putByte = symbol.apply("kernel_put_byte");
        // put_byte: al = byte; clobbers dx, r8b.
        a.align(16).bind(putByte);
        Label wait = new Label();
        a.mov(R8D, EAX).mov(DX, Com1.LINE_STATUS);
        a.bind(wait).in(AL, DX).test(AL, Com1.TRANSMITTER_EMPTY).jcc(Cond.E, wait);
        a.mov(EAX, R8D).mov(DX, Com1.PORT).out(DX, AL).ret();

        routine(a, symbol, "kernel_putc");
        a.mov(EAX, EDI).call(putByte).ret();

        // klib_console_print(rdi = bytes, rsi = length)
        routine(a, symbol, "klib_console_print");
        Label loop = new Label();
        Label done = new Label();
        a.bind(loop).test(RSI, RSI).jcc(Cond.E, done);
        a.movzx(EAX, Mem.at(RDI).m8()).call(putByte).inc(RDI).dec(RSI).jmp(loop);
        a.bind(done).ret();

        routine(a, symbol, "kernel_puts");
        Label next = new Label();
        Label end = new Label();
        a.bind(next).movzx(EAX, Mem.at(RDI).m8()).test(EAX, EAX).jcc(Cond.E, end);
        a.call(putByte).inc(RDI).jmp(next);
        a.bind(end).ret();

        routine(a, symbol, "klib_read_rflags");
        a.pushf().pop(RAX).ret();

        // kernel_lgdt(base, limit): loads GDTR, then CS through a far return and the data
        // segments; FS and GS are left alone because loading them would reset GS.base.
        routine(a, symbol, "kernel_lgdt");
        Label reloaded = new Label();
        a.sub(RSP, 16).mov(Mem.at(RSP).m16(), SI).mov(Mem.at(RSP, 2).m64(), RDI).lgdt(Mem.at(RSP)).add(RSP, 16);
        a.push(BootEntry.CODE64).lea(RAX, Mem.rip(reloaded)).push(RAX).retfq();
        a.bind(reloaded).mov(AX, BootEntry.DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX).ret();

        routine(a, symbol, "kernel_lidt");
        a.sub(RSP, 16).mov(Mem.at(RSP).m16(), SI).mov(Mem.at(RSP, 2).m64(), RDI).lidt(Mem.at(RSP)).add(RSP, 16).ret();

        routine(a, symbol, "kernel_ltr");
        a.ltr(DI).ret();

        routine(a, symbol, "kernel_layout");
        a.lea(RAX, Mem.rip(layoutTable)).ret();
        routine(a, symbol, "kernel_this_cpu");
        a.mov(RAX, Mem.abs(0).seg(SegReg.GS).m64()).ret();
        routine(a, symbol, "kernel_cpu_index");
        a.mov(EAX, Mem.abs(8).seg(SegReg.GS).m32()).ret();
        routine(a, symbol, PerCpuVariables.READ_SYMBOL);
        a.mov(RAX, Mem.at(RDI).seg(SegReg.GS).m64()).ret();
        routine(a, symbol, PerCpuVariables.WRITE_SYMBOL);
        a.mov(Mem.at(RDI).seg(SegReg.GS).m64(), RSI).ret();
        // One instruction: an interrupt on this CPU lands before or after it, never inside.
        routine(a, symbol, PerCpuVariables.ADD_SYMBOL);
        a.add(Mem.at(RDI).seg(SegReg.GS).m64(), RSI).ret();
        // STI takes effect after the next instruction, so no interrupt slips in before HLT.
        routine(a, symbol, "kernel_wait_for_interrupt");
        a.sti().hlt().ret();
        Label forever = routine(a, symbol, "kernel_halt_forever");
        a.cli().hlt().jmp(forever);
        routine(a, symbol, "kernel_jump_to");
        a.jmp(RDI);
        routine(a, symbol, "kernel_read_rbp");
        a.mov(RAX, RBP).ret();
        routine(a, symbol, "kernel_memcpy");
        a.db(0xFC).mov(RCX, RDX).rep().movsb().ret();
        routine(a, symbol, "kernel_memzero");
        a.db(0xFC).mov(RCX, RSI).xor(EAX, EAX).rep().stosb().ret();
    }

    static Label routine(Assembler a, Function<String, Label> symbol, String name) {
        Label l = symbol.apply(name);
        a.align(16).bind(l);
        return l;
    }

    /** Jumps to a compiled method: both sides follow the same calling convention. */
    static void alias(Assembler a, Label symbol, Label target) {
        a.align(16).bind(symbol);
        a.jmp(target);
    }
}
