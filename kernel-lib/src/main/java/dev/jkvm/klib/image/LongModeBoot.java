package dev.jkvm.klib.image;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;

/**
 * The 32-bit multiboot entry of the hello example (and vmm's lockstep kernels) that switches the
 * CPU into 64-bit long mode by itself: {@link BootTables} (a flat GDT with a 64-bit code segment,
 * an identity-mapped first GiB with 2 MiB pages), a stack, then {@link LongModeSwitch} (Intel SDM
 * Vol. 3A §10.8.5).
 */
public final class LongModeBoot {
    /** BootTables' selectors: entry 1 is 64-bit code, entry 2 flat data. */
    public static final int CODE64_SELECTOR = BootTables.CODE64_SELECTOR;
    public static final int DATA_SELECTOR = BootTables.DATA_SELECTOR;
    private static final int STACK_BYTES = 16 * 1024;

    private LongModeBoot() {
    }

    /**
     * Emits the bootstrap into {@code a}'s text section (32-bit code) plus its GDT, page tables
     * and stack; jumps to {@code longModeEntry} in 64-bit mode with segments loaded and RSP set.
     * Leaves {@code a} in 64-bit mode. Returns the 32-bit entry label ("multiboot_entry").
     */
    public static Label emit(Assembler a, Label longModeEntry) {
        Label stackTop = new Label("boot_stack_top");
        BootTables tables = BootTables.emit(a, "boot");

        a.section("bss", Section.Kind.BSS);
        a.align(16).reserve(STACK_BYTES).bind(stackTop);

        a.section("text", Section.Kind.CODE);
        a.setMode(Mode.PROTECTED32);
        Label entry = a.label("multiboot_entry");
        a.cli();
        a.mov(ESP, stackTop);
        Label reload = new Label("boot_long_mode");
        tables.longModeSwitch(reload).emit(a);

        a.setMode(Mode.LONG64);
        a.bind(reload);
        a.mov(AX, DATA_SELECTOR).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(RSP, stackTop);
        a.jmp(longModeEntry);
        return entry;
    }
}
