package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Section;

/**
 * One entry stub per IDT vector and the common entry they share. A stub pushes a zero error code
 * when the CPU does not push one (so every frame has the same layout, TrapFrame), pushes its
 * vector and jumps to the common entry, which saves the general registers, calls the compiled
 * handler with rdi = frame on a 16-byte aligned stack, restores and returns with IRETQ.
 */
final class TrapStubs {
    private TrapStubs() {
    }

    /** Vectors for which the CPU pushes an error code (Intel SDM Vol. 3A 6.15, Table 6-1). */
    private static boolean hasErrorCode(int vector) {
        return switch (vector) {
            case 8, 10, 11, 12, 13, 14, 17, 21, 29, 30 -> true;
            default -> false;
        };
    }

    private static final dev.jkvm.klib.asm.Reg[] SAVED = {RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15};

    /** The common entry's symbol: the SYSCALL entry joins it with a frame of the same layout. */
    static final String COMMON_ENTRY = "trap_common";

    /**
     * Emits the stubs into text and their address table into rodata; returns the table label.
     * common is bound here to the common entry (symbol COMMON_ENTRY).
     */
    static Label emit(Assembler a, Label handler, Label common) {
        Label[] stubs = new Label[256];
        a.section("text", Section.Kind.CODE);
        for (int v = 0; v < 256; v++) {
            stubs[v] = new Label("trap_stub_" + v);
            a.align(16).bind(stubs[v]);
            if (!hasErrorCode(v)) {
                a.push(0);
            }
            a.push(v);
            a.jmp(common);
        }
        a.align(16).bind(common);
        for (dev.jkvm.klib.asm.Reg r : SAVED) {
            a.push(r);
        }
        a.db(0xFC); // CLD: the psABI promises compiled code a clear direction flag
        a.mov(RDI, RSP);
        // rbx survives the call (callee-saved) and remembers the unaligned stack pointer.
        a.mov(RBX, RSP).and(RSP, -16);
        a.call(handler);
        a.mov(RSP, RBX);
        for (int i = SAVED.length - 1; i >= 0; i--) {
            a.pop(SAVED[i]);
        }
        a.add(RSP, 16);
        a.iretq();

        Label table = new Label("trap_stub_table");
        a.section("rodata", Section.Kind.RODATA);
        a.align(8).bind(table);
        for (Label stub : stubs) {
            a.dq(stub);
        }
        a.section("text", Section.Kind.CODE);
        return table;
    }
}
