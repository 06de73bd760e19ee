package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.util.ArrayList;
import java.util.List;

/**
 * Moves several values into registers "at once" (arguments before a call, parameters into
 * their homes), ordering the moves so that no source is overwritten before it is read and
 * breaking register cycles through rax.
 */
final class ParallelMove {
    /** One move: dst (64-bit register name) receives src of the given width. */
    record Move(Reg dst, Operand src, int bits) {
    }

    private ParallelMove() {
    }

    static void emit(Assembler a, List<Move> moves) {
        List<Move> pending = new ArrayList<>();
        for (Move m : moves) {
            if (!m.src.sharesRegisterWith(m.dst)) {
                pending.add(m);
            }
        }
        while (!pending.isEmpty()) {
            boolean progressed = false;
            for (int i = 0; i < pending.size(); i++) {
                Move m = pending.get(i);
                if (!isRead(pending, m.dst, m)) {
                    emitOne(a, m);
                    pending.remove(i);
                    i--;
                    progressed = true;
                }
            }
            if (!progressed) {
                Reg blocked = pending.getFirst().dst;
                if (isRead(pending, Reg.RAX, null)) {
                    throw new IllegalStateException("parallel move needs rax twice");
                }
                a.mov(Reg.RAX, blocked);
                for (int i = 0; i < pending.size(); i++) {
                    Move m = pending.get(i);
                    if (m.src.sharesRegisterWith(blocked)) {
                        pending.set(i, new Move(m.dst, Operand.of(Reg.RAX), m.bits));
                    }
                }
            }
        }
    }

    private static boolean isRead(List<Move> pending, Reg reg, Move except) {
        for (Move m : pending) {
            if (m != except && m.src.sharesRegisterWith(reg)) {
                return true;
            }
        }
        return false;
    }

    private static void emitOne(Assembler a, Move m) {
        switch (m.src) {
            case Operand.InRegister(Reg r) -> a.mov(m.dst, r);
            case Operand.InMemory(Mem mem) -> a.mov(m.dst.withBits(m.bits), mem.size(m.bits));
            case Operand.Constant(long imm) -> a.mov(m.dst.withBits(m.bits), m.bits == 32 ? (long) (int) imm : imm);
        }
    }
}
