package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.kernel.cpu.Gdt;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.Rflags;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.sched.SchedArch;

import java.util.function.Function;

/**
 * The way into ring 3 for a new user task (ENTER_USER, an IRETQ), the SYSCALL entry (the way
 * back for system calls; faults and interrupts come through the IDT) and the console write that
 * reads user memory. GS is never swapped: user code keeps the kernel's GSBASE, which points at
 * the per-CPU area, a supervisor-only page user code cannot read, and CR4.FSGSBASE stays off so
 * user code cannot change it (WRGSBASE raises #UD); the compiled user code never loads a
 * segment register. So the kernel needs no SWAPGS on any entry path (a deviation from
 * SchedArch's note, chosen because an entry path that forgets SWAPGS is a classic kernel bug).
 */
final class UserRoutines {
    private UserRoutines() {
    }

    /** RFLAGS for user mode: IF and the reserved bit 1. */
    private static final int USER_RFLAGS = (int) (Rflags.IF | Rflags.RESERVED_ONE);
    /** With CR4.SMAP, supervisor data accesses to user pages need RFLAGS.AC set. */
    private static final int RFLAGS_AC = (int) Rflags.AC;

    /**
     * Emits the routines; putByte is the serial output routine of LowLevelRoutines. Returns the
     * SYSCALL entry, for IA32_LSTAR.
     */
    static Label emit(Assembler a, Function<String, Label> symbol, Label putByte) {
        // ENTER_USER (rdi = user RIP, rsi = user RSP, rdx = CR3): IRETQ frame SS, RSP, RFLAGS, CS,
        // RIP (Intel SDM Vol. 3A 6.14.2); registers cleared so no kernel value reaches user mode.
        LowLevelRoutines.routine(a, symbol, SchedArch.ENTER_USER);
        Label sameSpace = new Label();
        a.mov(RAX, CtrlReg.CR3).cmp(RAX, RDX).jcc(Cond.E, sameSpace).mov(CtrlReg.CR3, RDX);
        a.bind(sameSpace);
        a.push(Gdt.USER_DATA_SELECTOR).push(RSI).push(USER_RFLAGS).push(Gdt.USER_CODE64_SELECTOR).push(RDI);
        clearScratch(a);
        a.xor(EBX, EBX).xor(EBP, EBP).xor(R12D, R12D).xor(R13D, R13D).xor(R14D, R14D).xor(R15D, R15D);
        a.iretq();

        // kernel_user_print(rdi = user address, rsi = length, rdx = 1 when SMAP is on): the
        // range was checked; RFLAGS.AC opens user pages to this loop only (Intel SDM Vol. 3A 4.6).
        LowLevelRoutines.routine(a, symbol, "kernel_user_print");
        Label loop = new Label();
        Label done = new Label();
        Label noStac = new Label();
        Label noClac = new Label();
        // put_byte clobbers rdx and r8: the SMAP flag lives in r9. RFLAGS.AC is set with POPF
        // rather than STAC, which the ring-0 instruction emulator of kvm_pvm (nested paravirtual
        // KVM) does not implement.
        a.mov(R9, RDX).test(R9, R9).jcc(Cond.E, noStac);
        a.pushf().or(Mem.at(RSP).m64(), RFLAGS_AC).popf();
        a.bind(noStac);
        a.bind(loop).test(RSI, RSI).jcc(Cond.E, done);
        a.movzx(EAX, Mem.at(RDI).m8()).call(putByte).inc(RDI).dec(RSI).jmp(loop);
        a.bind(done);
        a.test(R9, R9).jcc(Cond.E, noClac);
        a.pushf().and(Mem.at(RSP).m64(), ~RFLAGS_AC).popf();
        a.bind(noClac).ret();

        // kernel_user_load64(rdi = user address, rsi = 1 when SMAP is on) -> rax: one 64-bit read
        // of a checked user address (a fault report walking the user stack), AC set as above.
        LowLevelRoutines.routine(a, symbol, "kernel_user_load64");
        Label loadNoStac = new Label();
        Label loadNoClac = new Label();
        a.test(RSI, RSI).jcc(Cond.E, loadNoStac);
        a.pushf().or(Mem.at(RSP).m64(), RFLAGS_AC).popf();
        a.bind(loadNoStac).mov(RAX, Mem.at(RDI).m64());
        a.test(RSI, RSI).jcc(Cond.E, loadNoClac);
        a.pushf().and(Mem.at(RSP).m64(), ~RFLAGS_AC).popf();
        a.bind(loadNoClac).ret();

        // SYSCALL entry (Intel SDM Vol. 2B, SYSCALL): CPL 0, interrupts off (FMASK), RSP still the
        // user's, RCX = user RIP, R11 = user RFLAGS. Parks the user RSP in the per-CPU area, takes
        // the task's kernel stack from this CPU's TSS.RSP0 (offset 4, Vol. 3A 8.7), builds the
        // frame an interrupt from ring 3 would have left (SS, RSP, RFLAGS, CS, RIP), adds error
        // code 0 and the SYSTEM_CALL marker, and joins the trap stubs' common entry, which saves
        // the registers, calls Traps.handle and returns to ring 3 with IRETQ.
        Label entry = LowLevelRoutines.routine(a, symbol, "kernel_syscall_entry");
        a.mov(Mem.abs(PerCpuArea.SYSCALL_USER_RSP).seg(SegReg.GS).m64(), RSP);
        a.mov(RSP, Mem.abs(PerCpuArea.TSS).seg(SegReg.GS).m64());
        a.mov(RSP, Mem.at(RSP, TSS_RSP0).m64());
        a.push(Gdt.USER_DATA_SELECTOR).push(Mem.abs(PerCpuArea.SYSCALL_USER_RSP).seg(SegReg.GS).m64());
        a.push(R11).push(Gdt.USER_CODE64_SELECTOR).push(RCX);
        a.push(0).push(Vectors.SYSTEM_CALL);
        a.jmp(symbol.apply(TrapStubs.COMMON_ENTRY));
        return entry;
    }

    /** TSS.RSP0 in the 64-bit TSS (Intel SDM Vol. 3A 8.7, Figure 8-11). */
    private static final int TSS_RSP0 = 4;

    private static void clearScratch(Assembler a) {
        a.xor(EAX, EAX).xor(ECX, ECX).xor(EDX, EDX).xor(ESI, ESI).xor(EDI, EDI);
        a.xor(R8D, R8D).xor(R9D, R9D).xor(R10D, R10D).xor(R11D, R11D);
    }
}
