package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.arch.Com1;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.kernel.console.Log;
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

    /** Spins on the console's output lock after a panic before writing without it. */
    private static final long EMERGENCY_SPINS = 1 << 20;

    static void emit(Assembler a, Function<String, Label> symbol, Label layoutTable) {
        Label putByte = emitConsole(a, symbol);
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

    /**
     * The console's byte output (kernel_put_byte, returned) and its line buffering: see console.Log
     * for what it guarantees.
     */
    private static Label emitConsole(Assembler a, Function<String, Label> symbol) {
        // Console state shared by all CPUs: whether lines are buffered yet, the lock a CPU holds
        // while it writes one whole line out, and whether a panic wants the lock given up on.
        Label buffering = new Label();
        Label outputLock = new Label();
        Label emergency = new Label();
        a.section("data", Section.Kind.DATA);
        a.align(64).bind(buffering).dd(0).bind(emergency).dd(0).align(64).bind(outputLock).dd(0).align(64);
        a.section("text", Section.Kind.CODE);

        // serial_out: al = byte to COM1; clobbers rax, rdx, r8.
        Label serialOut = new Label();
        a.align(16).bind(serialOut);
        Label wait = new Label();
        a.mov(R8D, EAX).mov(DX, Com1.LINE_STATUS);
        a.bind(wait).in(AL, DX).test(AL, Com1.TRANSMITTER_EMPTY).jcc(Cond.E, wait);
        a.mov(EAX, R8D).mov(DX, Com1.PORT).out(DX, AL).ret();

        // put_byte: al = byte; clobbers rax, rcx, rdx, r8-r11 (keeps rdi and rsi for its callers).
        // Once line buffering is on, the byte goes to this CPU's line buffer (PerCpuArea.CONSOLE_LINE)
        // with interrupts off, and only a whole line (or a full buffer) goes to COM1, under the
        // output lock: lines from different CPUs never interleave (issue 14). Before that (the boot
        // CPU alone, before the per-CPU areas exist) bytes go straight out.
        Label putByte = routine(a, symbol, "kernel_put_byte");
        Label unbuffered = new Label();
        Label flush = new Label();
        Label done = new Label();
        a.cmp(Mem.rip(buffering).m32(), 0).jcc(Cond.E, serialOut);
        a.pushf().cli();
        a.mov(R9, Mem.abs(Log.CONSOLE_LINE_SLOT).seg(SegReg.GS).m64());
        a.test(R9, R9).jcc(Cond.E, unbuffered);
        a.mov(ECX, Mem.at(R9).m32());
        a.mov(Mem.at(R9, Log.LINE_BYTES).index(RCX, 1).m8(), AL);
        a.inc(ECX).mov(Mem.at(R9).m32(), ECX);
        a.cmp(AL, '\n').jcc(Cond.E, flush);
        a.cmp(ECX, Log.LINE_CAPACITY).jcc(Cond.B, done);
        a.bind(flush).call(symbol.apply("kernel_console_write_line"));
        a.bind(done).popf().ret();
        a.bind(unbuffered).popf().jmp(serialOut);

        // write_line: r9 = a line buffer (interrupts off); writes its bytes to COM1 under the output
        // lock and empties it. The spin is unbounded in practice (2^32 rounds) except after a
        // panic (kernel_console_emergency): a CPU stopped by the panic's NMI may hold the lock, and
        // the panic report must come out anyway. Clobbers rax, rcx, rdx, r8, r10, r11.
        routine(a, symbol, "kernel_console_write_line");
        Label spin = new Label();
        Label locked = new Label();
        Label emit = new Label();
        Label emitted = new Label();
        a.mov(R10D, 0xFFFFFFFFL);
        a.cmp(Mem.rip(emergency).m32(), 0).jcc(Cond.E, spin);
        a.mov(R10D, EMERGENCY_SPINS);
        a.bind(spin).mov(EAX, 1).xchg(Mem.rip(outputLock).m32(), EAX).test(EAX, EAX).jcc(Cond.E, locked);
        a.pause().dec(R10D).jcc(Cond.NE, spin);
        // Gave up (r10d = 0): write without the lock and do not release it.
        a.bind(locked).mov(ECX, Mem.at(R9).m32()).xor(R11D, R11D);
        a.bind(emit).cmp(R11D, ECX).jcc(Cond.AE, emitted);
        a.movzx(EAX, Mem.at(R9, Log.LINE_BYTES).index(R11, 1).m8()).call(serialOut).inc(R11D).jmp(emit);
        Label keepLock = new Label();
        a.bind(emitted).mov(Mem.at(R9).m32(), 0);
        a.test(R10D, R10D).jcc(Cond.E, keepLock);
        // A plain store releases: x86 keeps stores in order (Intel SDM Vol. 3A 9.2.2).
        a.mov(Mem.rip(outputLock).m32(), 0);
        a.bind(keepLock).ret();

        // kernel_console_flush: writes out this CPU's unfinished line, if any (before the VM ends).
        routine(a, symbol, Log.FLUSH);
        Label nothing = new Label();
        a.cmp(Mem.rip(buffering).m32(), 0).jcc(Cond.E, nothing);
        a.pushf().cli();
        a.mov(R9, Mem.abs(Log.CONSOLE_LINE_SLOT).seg(SegReg.GS).m64());
        Label restore = new Label();
        a.test(R9, R9).jcc(Cond.E, restore);
        a.cmp(Mem.at(R9).m32(), 0).jcc(Cond.E, restore);
        a.call(symbol.apply("kernel_console_write_line"));
        a.bind(restore).popf();
        a.bind(nothing).ret();
        routine(a, symbol, Log.BUFFER_LINES);
        a.mov(Mem.rip(buffering).m32(), 1).ret();
        routine(a, symbol, Log.EMERGENCY);
        a.mov(Mem.rip(emergency).m32(), 1).ret();

        return putByte;
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
