package dev.jkvm.vmm.emulated.lockstep;

import dev.jkvm.vmm.emulated.cpu.Decoder;
import dev.jkvm.vmm.emulated.cpu.Insn;

/**
 * Where QEMU 7.2 TCG, the oracle, is known to differ from the SDM or uses implementation freedom
 * the emulated CPU uses differently. Each rule names the instruction and the section; the harness
 * takes QEMU's value there instead of failing, and the deviations are counted in the summaries.
 * <ul>
 *   <li>SYSCALL in 64-bit mode: the SDM (Vol. 2B SYSCALL) has RFLAGS ← RFLAGS AND NOT IA32_FMASK;
 *       QEMU 7.2 also clears the arithmetic flags (its helper masks a copy of EFLAGS that lacks the
 *       lazily computed condition codes): R11 is right on both, RFLAGS's CF/PF/AF/ZF/SF/OF are taken
 *       from QEMU.</li>
 *   <li>FXSAVE with CR4.OSFXSR = 0: whether MXCSR and XMM0-15 are saved is implementation
 *       dependent (SDM Vol. 2A FXSAVE, "Operation"); QEMU leaves those bytes of the image alone.
 *       The harness copies QEMU's 512-byte image over ours after the instruction.</li>
 *   <li>MXCSR.DE after SSE/SSE2 floating-point instructions: the SDM (Vol. 1 §11.5.2.1, §4.9.1.3)
 *       has DE set for a denormal source operand when DAZ is clear, and the host processor sets it
 *       (HostSseFloatOracleTest); QEMU 7.2 never does (its softfloat reports input denormals only
 *       when flushing them, DAZ). Where the two differ in DE alone, QEMU's MXCSR is taken.</li>
 *   <li>MINPS/MINPD/MINSS/MINSD/MAXPS/... with MXCSR.DAZ: a denormal source is a zero
 *       (SDM Vol. 1 §10.2.3.4) and the host processor returns that zero when it selects the
 *       operand (HostSseFloatOracleTest#minMaxWithDenormalsUnderDaz); QEMU 7.2 compares flushed
 *       values but returns the original denormal. Lanes where ours is ±0 and QEMU's a denormal of
 *       the same sign are taken from QEMU.</li>
 *   <li>ADDPS/ADDSD/SUBx/MULx/DIVx with two NaN operands: the SDM (Vol. 1 Table 4-7, SSE column)
 *       returns the first source operand (quieted), and so does the host processor
 *       (HostSseFloatOracleTest); QEMU 7.2 applies the x87 rule (the NaN with the larger
 *       significand). Lanes where both results are NaNs are taken from QEMU.</li>
 *   <li>An interrupt or exception through a 64-bit IDT gate with a nonzero IST index that does not
 *       change CPL: QEMU 7.2's do_interrupt64 treats IST like a privilege change and loads a null SS
 *       (RPL = CPL); the SDM nulls SS only when the CPL changes (Vol. 3A §6.14.4: "When stacks are
 *       switched as part of a 64-bit mode privilege-level change ..., the new SS selector is forced
 *       to NULL"; §6.14.5 has IST select only the stack pointer), and the emulated CPU keeps SS.
 *       The frame (old SS pushed) is the same in both, and IRETQ reloads SS from it. Where SS is the
 *       only difference after such a delivery, QEMU's segment state is copied into the CPU under test.</li>
 *   <li>A 64-bit-mode memory reference through SS (base RBP or RSP) at a non-canonical address:
 *       the SDM has #SS(0) (Vol. 3A §6.15 Interrupt 12, §3.3.7.1), hardware and the emulated CPU
 *       raise it; QEMU 7.2 raises #GP(0) (its canonical check sits in the page walk, which does not
 *       know the segment). No rule: the lockstep kernels raise no such reference
 *       ({@link QemuStackFaultDeviationTest} shows the difference on TCG and KVM).</li>
 *   <li>IRET/IRETQ whose SS selector names a not-present segment: the SDM has #SS(selector)
 *       (Vol. 2A IRET, Protected Mode Exceptions), KVM and the emulated CPU raise it; QEMU 7.2
 *       raises #NP(selector). No rule: the lockstep kernels do not do it
 *       ({@link QemuStackFaultDeviationTest} again).</li>
 *   <li>A maskable interrupt made pending by another vCPU: QEMU's next single step only processes
 *       the cross-vCPU poll request and executes nothing, a step {@link Lockstep#step} repeats (see
 *       there); no value is taken from QEMU.</li>
 *   <li>LSS: QEMU 7.2 inhibits interrupts for one instruction after any load of SS, LSS included;
 *       the SDM names only MOV SS and POP SS (Vol. 3A §6.8.3; "blocking by MOV SS", Vol. 3C
 *       §24.4.2), and the emulated CPU sets no shadow after LSS. {@code SmpLockstepTest} checks both
 *       after an LSS and then gives the CPU under test QEMU's shadow.</li>
 *   <li>An NMI pending on the boundary after MOV SS: the SDM blocks it (Vol. 3A §6.8.3; Vol. 3C
 *       §24.4.2, "Blocking by MOV SS": "interrupts (maskable and nonmaskable)") and the emulated
 *       CPU holds it one instruction; QEMU 7.2 delivers it at once (its interrupt shadow holds
 *       maskable interrupts only). {@code SmpLockstepTest} checks ours has the shadow, then clears
 *       it, so that both deliver at that boundary.</li>
 *   <li>RF in the RFLAGS image a fault-class exception pushes: the SDM sets it (Vol. 3B §17.3.1.1,
 *       "For any fault-class exception except a debug exception generated in response to an
 *       instruction breakpoint, the value pushed for RF is 1"), so that IRET re-executes the
 *       faulting instruction without a second instruction-breakpoint #DB; the emulated CPU does.
 *       QEMU 7.2 pushes RFLAGS as it is (RF = 0; later QEMU versions set it). Where the frame the
 *       CPU under test just pushed differs from QEMU's in that one bit, QEMU's image is copied
 *       into the CPU under test ({@link #frameBitsFromOracle}).</li>
 *   <li>The EXT bit (bit 0) of the error code of an exception raised while delivering an external
 *       interrupt or NMI: the SDM sets it (Vol. 3A §6.13, "EXT ... the exception occurred during
 *       delivery of an event external to the program, such as an interrupt"), and so do the
 *       emulated CPU and the INT n pseudo-code's "+ EXT" (Vol. 2A INT n); QEMU 7.2 never sets it
 *       (seg_helper.c raises #TS/#GP/#NP with the selector alone). Where the error code the CPU under
 *       test just pushed differs from QEMU's in bit 0 alone, set in ours, QEMU's is copied
 *       ({@link #frameBitsFromOracle}).</li>
 *   <li>An instruction breakpoint with RFLAGS.RF set, under the gdbstub's single-step: the SDM
 *       suppresses it for that one instruction (Vol. 3B §17.3.1.1), and so do QEMU's translated
 *       blocks, but QEMU 7.2's debug-exception handler, which runs after every gdbstub step,
 *       checks the instruction breakpoints at the new RIP without looking at RF (bpt_helper.c,
 *       breakpoint_handler), so a step onto the instruction (an IRETQ that set RF) ends in a
 *       second #DB — for ever. Where the CPU under test stands at the breakpoint with RF set and
 *       QEMU went to a handler at the same CPL, QEMU's registers are set back to ours and the
 *       frame it pushed is copied into our memory ({@link #instructionBreakpointDespiteRf}); its
 *       DR6 keeps the extra B bit, which the next breakpoint's #DB replaces in both.
 *       The other side of the same handler: QEMU's step onto an instruction breakpoint (RF clear)
 *       ends after that #DB's delivery, which the CPU under test takes as a step of its own
 *       ({@link Lockstep#step} steps it once more).</li>
 *   <li>One access hitting two data breakpoints: the SDM sets each one's B bit in DR6 (Vol. 3B
 *       §17.2.3: "B0 through B3 ... indicates that its associated breakpoint condition was met
 *       when a debug exception was generated") and the emulated CPU does; QEMU 7.2 stops at the
 *       first watchpoint the access matches (softmmu/watchpoint.c, cpu_check_watchpoint) and
 *       reports that breakpoint's bit alone. Where a MOV from DR6 gives ours two or more B bits and
 *       QEMU the lowest of them alone, QEMU's value is taken ({@link #dr6FirstWatchpointOnly}).</li>
 *   <li>Data breakpoints whose DRn is not aligned to their length: the processor masks the low
 *       address bits with LEN (SDM Vol. 3B §17.2.5) and the emulated CPU watches the aligned range;
 *       QEMU 7.2 watches DRn .. DRn + LEN - 1 as given (bpt_helper.c, cpu_watchpoint_insert).
 *       Instruction breakpoints: the SDM matches the linear address (§17.2.4), the emulated CPU
 *       adds the CS base; QEMU 7.2 compares DRn with EIP alone (check_hw_breakpoints). No rule:
 *       {@link DebugRegisterKernel} aligns its DRn and runs with CS base 0; the emulated CPU's side
 *       is checked by the cpu package's DebugRegistersTest.</li>
 *   <li>A data breakpoint hit by MOV SS or POP SS: the SDM holds its #DB to the boundary after the
 *       next instruction (Vol. 3A §6.8.3, "inhibits interrupts, debug exceptions, and single-step
 *       trap exceptions"; what CVE-2018-8897 was about) and the emulated CPU does; QEMU 7.2 delivers
 *       it right after the MOV SS (seen with a lockstep scenario, not kept). No rule: the lockstep
 *       kernels do not do it; the cpu package's DebugRegistersTest checks ours.</li>
 *   <li>Descriptor Accessed bit on CS loads and the hidden attributes of null data-segment
 *       selectors: see {@link SegmentState#differences} and {@link Lockstep#compareMemory(long, int, boolean)}.</li>
 * </ul>
 */
final class QemuDeviations {
    private QemuDeviations() {}

    static final long CR4_OSFXSR = 1 << 9;

    /** RFLAGS bits taken from QEMU after this instruction (beyond the SDM-undefined ones). */
    static long flagsFromOracle(byte[] code, int bits) {
        int i = skipPrefixes(code, bits);
        if (bits == 64 && i + 1 < code.length && code[i] == 0x0F && code[i + 1] == 0x05) return X86State.ARITHMETIC;
        return 0;
    }

    /** The linear address of an FXSAVE/FXSAVE64 memory operand when CR4.OSFXSR is clear, else -1. */
    static long fxsaveWithoutOsfxsr(byte[] code, int bits, X86State before, long segmentBase) {
        if ((before.cr4 & CR4_OSFXSR) != 0) return -1;
        int i = skipPrefixes(code, bits);
        if (i + 2 >= code.length || code[i] != 0x0F || (code[i + 1] & 0xFF) != 0xAE || ((code[i + 2] >> 3) & 7) != 0
                || ((code[i + 2] & 0xFF) >> 6) == 3) {
            return -1;
        }
        // The project's decoder only locates the operand; its correctness is checked elsewhere.
        Insn insn = new Insn();
        new Decoder().decode(linear -> code[(int) (linear - before.rip)] & 0xFF, before.rip, bits == 64 ? Decoder.MODE64
                : bits == 32 ? Decoder.MODE32 : Decoder.MODE16, insn);
        long ea = insn.disp;
        if (insn.base == Insn.BASE_RIP) ea += before.rip + insn.length;
        else if (insn.base >= 0) ea += before.gpr[insn.base];
        if (insn.index >= 0) ea += before.gpr[insn.index] << insn.scale;
        if (insn.addrSize == 4) ea &= 0xFFFF_FFFFL;
        if (insn.addrSize == 2) ea &= 0xFFFF;
        return segmentBase + ea;
    }

    static final int MXCSR_DE = 1 << 1;

    /** True for the SSE/SSE2 floating-point opcodes (0F 2A-2F, 51-5F, C2, E6) that can see a denormal operand. */
    static boolean sseFloat(byte[] code, int bits) {
        int i = skipPrefixes(code, bits);
        if (i + 1 >= code.length || code[i] != 0x0F) return false;
        int b = code[i + 1] & 0xFF;
        return b >= 0x2A && b <= 0x2F || b >= 0x51 && b <= 0x5F || b == 0xC2 || b == 0xE6;
    }

    /**
     * SSE floating-point lanes where QEMU 7.2 is known to deviate (see the class comment): MIN/MAX
     * under DAZ (ours ±0, QEMU the same-signed denormal) and the NaN chosen from two NaN operands
     * of ADD/SUB/MUL/DIV (both results NaNs). When every lane where {@code ours} differs is one of
     * these, copies QEMU's XMM registers into {@code ours} and returns what was taken, else null.
     */
    static String sseFloatLanes(byte[] code, int bits, X86State before, X86State ours, X86State after) {
        int i = skipPrefixes(code, bits);
        if (i + 1 >= code.length || code[i] != 0x0F) return null;
        int op = code[i + 1] & 0xFF;
        boolean minMax = (op == 0x5D || op == 0x5F) && (before.mxcsr & 0x40) != 0;
        boolean arithmetic = op == 0x58 || op == 0x59 || op == 0x5C || op == 0x5E;
        if (!minMax && !arithmetic) return null;
        boolean dbl = false;
        for (int k = 0; k < i; k++) if (code[k] == 0x66 || code[k] == (byte) 0xF2) dbl = true;
        int width = dbl ? 64 : 32, lanes = dbl ? 1 : 2;
        long mask = dbl ? -1L : 0xFFFF_FFFFL, sign = dbl ? Long.MIN_VALUE : 0x8000_0000L;
        long exp = dbl ? 0x7FF0_0000_0000_0000L : 0x7F80_0000L;
        boolean any = false;
        for (int q = 0; q < 32; q++) {
            long o = ours.xmm[q], e = after.xmm[q];
            if (o == e) continue;
            for (int l = 0; l < lanes; l++) {
                long ol = (o >>> (width * l)) & mask, el = (e >>> (width * l)) & mask;
                if (ol == el) continue;
                boolean explained = minMax
                        ? ol == (el & sign) && (el & exp) == 0 && (el & ~sign & mask) != 0
                        : (ol & exp) == exp && (ol & ~sign & ~exp & mask) != 0 && (el & exp) == exp && (el & ~sign & ~exp & mask) != 0;
                if (!explained) return null;
                any = true;
            }
        }
        if (!any) return null;
        System.arraycopy(after.xmm, 0, ours.xmm, 0, 32);
        return minMax ? "MIN/MAX denormal under DAZ (QEMU 7.2 returns the unflushed operand)"
                : "NaN from two NaN operands (QEMU 7.2 applies the x87 larger-significand rule)";
    }

    /**
     * True when a step entered, at the same CPL, a handler whose 64-bit IDT gate has an IST index
     * and QEMU left SS a null selector with RPL = CPL where {@code ours} kept the SS of before
     * (see the class comment).
     */
    static boolean istWithoutPrivilegeChangeNullsSs(QemuTarget q, X86State before, X86State ours, X86State after)
            throws java.io.IOException {
        int cpl = after.selector[1] & 3;
        if ((before.selector[1] & 3) != cpl || after.selector[2] != cpl || ours.selector[2] != before.selector[2]) return false;
        if ((after.efer & 0x400) == 0) return false;
        SegmentState seg = q.segments();
        int gates = Math.min(256, (seg.idtLimit() + 1) / 16);
        byte[] idt = q.read(seg.idtBase(), gates * 16);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(idt).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v = 0; v < gates; v++) {
            long lo = b.getLong(v * 16), hi = b.getLong(v * 16 + 8);
            long offset = (lo & 0xFFFF) | ((lo >>> 32) & 0xFFFF_0000L) | (hi << 32);
            if ((lo & 1L << 47) != 0 && ((lo >>> 32) & 7) != 0 && offset == after.rip) return true;
        }
        return false;
    }

    /** RFLAGS.RF (SDM Vol. 1 §3.4.3.3). */
    static final long RF = 1L << 16;

    /** What {@link #frameBitsFromOracle} took from QEMU: RF in the pushed RFLAGS, EXT in the error code. */
    static final int FRAME_RF = 1, FRAME_EXT = 2;

    /**
     * After a step that delivered an exception or interrupt (RIP left the instruction, RSP moved
     * by more than a push or pop), looks at the frame at the new RSP: when ours differs from
     * QEMU's only in RF of 4-byte-aligned words (set in ours) and in bit 0 of the lowest word, the
     * error code (set in ours), copies QEMU's frame words into the CPU under test and returns
     * which of the two it took ({@link #FRAME_RF}, {@link #FRAME_EXT}); 0 when none or when
     * anything else differs. The kernels identity-map their stacks.
     */
    static int frameBitsFromOracle(QemuTarget q, CpuUnderTest cpu, X86State before, X86State after) throws Exception {
        long drop = before.gpr[4] - after.gpr[4];
        if (after.rip - before.rip >= 0 && after.rip - before.rip <= 15 || Math.abs(drop) <= 8 || drop < 0 && drop > -64) return 0;
        long at = after.gpr[4];
        byte[] theirs = q.read(at, 48), ours = cpu.readMemory(at, 48);
        java.nio.ByteBuffer t = java.nio.ByteBuffer.wrap(theirs).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.ByteBuffer o = java.nio.ByteBuffer.wrap(ours).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int taken = 0;
        for (int i = 0; i < 48; i += 4) {
            int x = t.getInt(i) ^ o.getInt(i);
            if (x == 0) continue;
            if (x == RF && (o.getInt(i) & RF) != 0) taken |= FRAME_RF;
            else if (i == 0 && x == 1 && (o.getInt(i) & 1) != 0) taken |= FRAME_EXT;
            else return 0;
        }
        if (taken != 0) cpu.writeVirtual(at, theirs);
        return taken;
    }

    /** See the class comment: true when QEMU's registers were set back to {@code ours} (same CPL, RF set, at a breakpoint). */
    static boolean instructionBreakpointDespiteRf(QemuTarget q, CpuUnderTest cpu, X86State ours, X86State after) throws Exception {
        if (ours.rip == after.rip || (ours.rflags & RF) == 0 || ours.selector[1] != after.selector[1] || !cpu.atInstructionBreakpoint()) {
            return false;
        }
        long below = ours.gpr[4] - after.gpr[4];
        if (below <= 0 || below > 64) return false;
        cpu.writeVirtual(after.gpr[4], q.read(after.gpr[4], (int) below));
        q.setState(ours);
        return true;
    }

    /**
     * After MOV r, DR6 (0F 21 /r with reg 6): when ours has two or more of B0-B3 and QEMU only
     * the lowest of them, otherwise the same (see the class comment), copies QEMU's value into
     * {@code ours} and returns true.
     */
    static boolean dr6FirstWatchpointOnly(byte[] code, int bits, X86State ours, X86State after) {
        int i = skipPrefixes(code, bits);
        if (i + 2 >= code.length || code[i] != 0x0F || code[i + 1] != 0x21 || ((code[i + 2] >> 3) & 7) != 6) return false;
        boolean rexB = bits == 64 && i > 0 && (code[i - 1] & 0xF1) == 0x41;
        int r = (code[i + 2] & 7) + (rexB ? 8 : 0);
        long o = ours.gpr[r], e = after.gpr[r];
        long ob = o & 0xF, eb = e & 0xF;
        if (((o ^ e) & ~0xFL) != 0 || eb == 0 || Long.bitCount(ob) < 2 || eb != Long.lowestOneBit(ob)) return false;
        ours.gpr[r] = e;
        return true;
    }

    private static int skipPrefixes(byte[] code, int bits) {
        int i = 0;
        while (i < code.length) {
            int b = code[i] & 0xFF;
            if (b == 0x66 || b == 0x67 || b == 0xF2 || b == 0xF3 || b == 0xF0 || b == 0x2E || b == 0x36 || b == 0x3E
                    || b == 0x26 || b == 0x64 || b == 0x65) {
                i++;
            } else {
                break;
            }
        }
        if (bits == 64 && i < code.length && (code[i] & 0xF0) == 0x40) i++;
        return i;
    }

    /**
     * True when {@code code} is INT imm8 (CD ib) in 64-bit code and QEMU, instead of entering that
     * gate, delivered #GP or #NP with the error code QEMU 7.2 computes as vector * 16 + 2 on the
     * new stack (its do_interrupt64; the SDM's is vector * 8 + 2, Vol. 3A §6.13): the harness then
     * copies QEMU's pushed error code (see Lockstep.step).
     */
    static boolean softwareInterruptErrorCode(byte[] code, int bits, X86State before, X86State after) {
        if (bits != 64 || code.length < 2 || code[0] != (byte) 0xCD) return false;
        return after.rip != before.rip + 2 && after.gpr[4] != before.gpr[4];
    }
}
