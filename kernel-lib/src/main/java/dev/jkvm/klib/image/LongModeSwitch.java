package dev.jkvm.klib.image;

import static dev.jkvm.klib.asm.Reg.EAX;
import static dev.jkvm.klib.asm.Reg.ECX;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;

/**
 * The one switch from 32-bit protected mode into 64-bit long mode, the sequence of Intel SDM
 * Vol. 3A §10.8.5 "Initializing IA-32e Mode": with paging off, load the GDT (optional here),
 * set CR4.PAE, load CR3 with the PML4, set IA32_EFER.LME (and NXE when the caller's page tables
 * use the XD bit), then set CR0.PG, which activates IA-32e mode (EFER.LMA), and far-jump through
 * a 64-bit code segment. Used by the kernel's boot CPU (kernel.build.BootEntry), the AP
 * trampoline (after its own real-mode prologue) and the hello example (LongModeBoot).
 *
 * <p>The caller binds {@code target} in {@link Mode#LONG64} code; the emitter leaves the assembler in
 * 32-bit mode right after the far jump so the caller may place more 32-bit code there.
 *
 * @param gdtPointer      a 6-byte LGDT operand to load first, or null when the caller loaded its GDT
 *                        already (the trampoline does so in real mode)
 * @param cr4Bits         OR-ed into CR4: must include PAE (SDM §10.8.5 step 2)
 * @param pageTableRoot   the value for CR3: the PML4's physical address, below 4 GiB
 * @param eferBits        OR-ed into IA32_EFER: LME, plus NXE when the page tables use XD
 * @param writeProtect    whether CR0.WP is set together with PG and PE
 * @param codeSelector    a 64-bit code segment (L = 1) of the loaded GDT
 * @param target          the 64-bit code the far jump goes to
 */
public record LongModeSwitch(Label gdtPointer, Value cr4Bits, Value pageTableRoot, Value eferBits,
                             boolean writeProtect, int codeSelector, Label target) {
    /** CR4.PAE, bit 5 (SDM Vol. 3A §2.5): IA-32e paging needs it before CR0.PG. */
    public static final int CR4_PAE = 1 << 5;
    /** CR0.PE, bit 0; CR0.WP, bit 16; CR0.PG, bit 31 (SDM Vol. 3A §2.5). */
    public static final long CR0_PE = 1;
    public static final long CR0_WP = 1 << 16;
    public static final long CR0_PG = 1L << 31;

    /** A 32-bit operand the switch needs: known at build time, or read from memory at run time. */
    public sealed interface Value {
        /** Loads the value into EAX. */
        void load(Assembler a);

        /** ORs the value into EAX. */
        void orInto(Assembler a);

        static Value immediate(long value) {
            return new Immediate(value);
        }

        /** A label's address (the image is linked below 4 GiB). */
        static Value addressOf(Label label) {
            return new AddressOf(label);
        }

        /** A dword read from memory when the switch runs (the AP trampoline's parameter block). */
        static Value at(Mem memory) {
            return new Load(memory);
        }
    }

    private record Immediate(long value) implements Value {
        public void load(Assembler a) {
            a.mov(EAX, value);
        }

        public void orInto(Assembler a) {
            a.or(EAX, value);
        }
    }

    private record AddressOf(Label label) implements Value {
        public void load(Assembler a) {
            a.mov(EAX, label);
        }

        public void orInto(Assembler a) {
            throw new UnsupportedOperationException("a label's address is not OR-ed into a register");
        }
    }

    private record Load(Mem memory) implements Value {
        public void load(Assembler a) {
            a.mov(EAX, memory);
        }

        public void orInto(Assembler a) {
            a.or(EAX, memory);
        }
    }

    /** The usual BSP case: PAE, LME without NXE, CR0.PG and PE, through {@code gdtPointer}'s GDT. */
    public static LongModeSwitch boot(Label gdtPointer, Label pml4, int codeSelector, Label target) {
        return new LongModeSwitch(gdtPointer, Value.immediate(CR4_PAE), Value.addressOf(pml4),
                Value.immediate(Efer.LME), false, codeSelector, target);
    }

    /** Emits the switch into {@code a}, which must be in 32-bit protected mode with paging off. */
    public void emit(Assembler a) {
        if (a.mode() != Mode.PROTECTED32) {
            throw new IllegalStateException("the long-mode switch runs in 32-bit protected mode, not " + a.mode());
        }
        if (gdtPointer != null) {
            a.lgdt(Mem.abs(gdtPointer));
        }
        a.mov(EAX, CtrlReg.CR4);
        cr4Bits.orInto(a);
        a.mov(CtrlReg.CR4, EAX);
        pageTableRoot.load(a);
        a.mov(CtrlReg.CR3, EAX);
        a.mov(ECX, Efer.MSR).rdmsr();
        eferBits.orInto(a);
        a.wrmsr();
        a.mov(EAX, CtrlReg.CR0).or(EAX, CR0_PG | (writeProtect ? CR0_WP : 0) | CR0_PE).mov(CtrlReg.CR0, EAX);
        a.jmpFar(codeSelector, target, 32);
    }
}
