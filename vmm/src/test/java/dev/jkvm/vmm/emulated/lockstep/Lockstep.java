package dev.jkvm.vmm.emulated.lockstep;

import java.util.HexFormat;
import java.util.List;

/**
 * Runs QEMU (the oracle) and a {@link CpuUnderTest} from the same state one instruction at a time
 * and compares after each: RIP, general registers, RFLAGS outside the bits the instruction leaves
 * undefined ({@link UndefinedFlags}), selectors, FS/GS/KERNEL_GS bases, CR0/CR2/CR3/CR4, EFER,
 * XMM and MXCSR; the hidden segment state on request ({@link #compareSegments}).
 *
 * <p>What is taken from QEMU instead of compared (each documented where it is decided):
 * {@link SpecialInstruction} results (CPUID, RDTSC/RDTSCP, RDMSR, RDPMC, port input), the
 * destination of a device MMIO read, and after comparison the undefined flag bits — so that they
 * cannot surface later as false mismatches.
 */
final class Lockstep {
    private final QemuTarget oracle;
    private final CpuUnderTest cpu;
    private final Objdump objdump;
    /** QEMU's state before the next step. */
    private X86State current;
    private long steps;
    /** How often the CPU under test's undefined flags differed from QEMU's, by mnemonic (informational). */
    final java.util.Map<String, Integer> undefinedFlagDifferences = new java.util.TreeMap<>();
    /** Instructions whose result came from QEMU (special instructions, device reads), by kind. */
    final java.util.Map<String, Integer> takenFromOracle = new java.util.TreeMap<>();
    /** Distinct instruction addresses stepped. */
    final java.util.Set<Long> addresses = new java.util.HashSet<>();

    Lockstep(QemuTarget oracle, CpuUnderTest cpu, Objdump objdump) throws Exception {
        this.oracle = oracle;
        this.cpu = cpu;
        this.objdump = objdump;
        this.current = oracle.state();
    }

    /** Copies QEMU's registers, hidden state, MSRs (at CPL 0) and {@code ramBytes} of RAM from 0 into the CPU under test. */
    void copyEverything(long ramBytes) throws Exception {
        final int chunk = 16 << 20;
        for (long at = 0; at < ramBytes; at += chunk) {
            int n = (int) Math.min(chunk, ramBytes - at);
            cpu.writeMemory(at, oracle.physical(at, n));
        }
        if ((oracle.state().efer & 0x400) != 0 && oracle.segments().cpl() == 0) cpu.loadMsrs(OracleMsrs.read(oracle));
        copyRegisters(true);
    }

    /** Copies QEMU's registers (and with {@code hidden} the segment caches) into the CPU under test. */
    void copyRegisters(boolean hidden) throws Exception {
        current = oracle.state();
        if (hidden) {
            cpu.load(current, oracle.segments());
        } else {
            cpu.setRegisters(current);
        }
    }

    X86State oracleState() {
        return current;
    }

    /**
     * Compares the CPU under test with QEMU as they are now, without stepping: for a caller that
     * stepped each on its own (an interrupt whose delivery point is timing-dependent in both).
     * Returns the differences (empty when they agree) and makes QEMU's state the current one.
     */
    List<String> compareNow() throws Exception {
        current = oracle.state();
        return cpu.registers().differences(current, 0);
    }

    /** Re-reads QEMU's registers after the caller changed them through the gdbstub. */
    void refresh() throws Exception {
        current = oracle.state();
    }

    long steps() {
        return steps;
    }

    /** Steps in mismatch reports count from here (each random program starts at step 1). */
    void restartStepCount() {
        steps = 0;
    }

    /**
     * Steps both CPUs over the instruction whose bytes are {@code code} (at least 15 bytes from
     * QEMU's RIP) in a {@code bits}-bit code segment. Returns null when they agree, else the mismatch;
     * after a mismatch the CPU under test is left as it is.
     */
    Mismatch step(byte[] code, int bits) throws Exception {
        X86State before = current;
        long fromOracle = QemuDeviations.flagsFromOracle(code, bits);
        long undefined = UndefinedFlags.of(code, bits, before.gpr[1]) | fromOracle;
        // FS/GS overrides aside, these kernels' data segments are flat: DS base 0 for the FXSAVE operand.
        long fxsave = QemuDeviations.fxsaveWithoutOsfxsr(code, bits, before, 0);
        SpecialInstruction special = SpecialInstruction.of(code, bits);
        steps++;
        if (addresses.size() < 1_000_000) addresses.add(before.rip);
        if (special != SpecialInstruction.NONE && special != SpecialInstruction.REP_STRING) takenFromOracle.merge(special.name(), 1, Integer::sum);

        GdbRemote.StopReply r = oracle.step();
        if (!r.stopped()) throw gone(r);
        X86State after = oracle.state();
        // QEMU sometimes answers a single step without having executed anything (seen after device
        // MMIO, when TCG retranslates the block for I/O): RIP and every register unchanged. Step
        // again; an instruction that really changes nothing (jmp $) only gets stepped a few times.
        for (int i = 0; i < 4 && after.rip == before.rip && after.differences(before, 0).isEmpty(); i++) {
            r = oracle.step();
            if (!r.stopped()) throw new GdbRemote.TargetGoneException("QEMU ended: " + r.raw());
            after = oracle.state();
        }
        for (int i = 0; special == SpecialInstruction.REP_STRING && after.rip == before.rip && i < 1 << 20; i++) {
            r = oracle.step();
            if (!r.stopped()) throw new GdbRemote.TargetGoneException("QEMU ended: " + r.raw());
            after = oracle.state();
        }
        final X86State oracleAfter = after;
        final int portSize = portSize(code, bits);
        CpuUnderTest.DeviceAnswers answers = new CpuUnderTest.DeviceAnswers() {
            @Override
            public long portIn(int port, int size) {
                // IN's destination after QEMU's step is the device's answer (AL/AX/EAX).
                return size == 4 ? oracleAfter.gpr[0] & 0xFFFF_FFFFL : oracleAfter.gpr[0] & ((1L << (8 * size)) - 1);
            }

            @Override
            public long mmioRead(long physical, int size) {
                // Value unknown here (QEMU's devices cannot be read through the gdbstub without
                // side effects); the destination is resynchronised from QEMU below.
                return 0;
            }
        };
        // A halted CPU under test with no event or timer to wake it would sleep in its step for
        // ever (QEMU's step returned: something woke QEMU's): report it instead of stepping.
        boolean asleep = cpu.halted() && !cpu.canWake();
        CpuUnderTest.StepEvent event = asleep ? CpuUnderTest.StepEvent.HALTED : cpu.step(answers);
        // HLT with an interrupt to come (Qqemu.sstep=1): QEMU's step halts, wakes and stops at the
        // handler's first instruction; the CPU under test halts in one step and takes the interrupt
        // in later ones (the first may sleep until its LAPIC timer is due).
        for (int i = 0; special == SpecialInstruction.HLT && event == CpuUnderTest.StepEvent.EXECUTED && i < 1000
                && after.rip != before.rip + 1 && cpu.halted() && cpu.canWake(); i++) {
            event = cpu.step(answers);
        }
        X86State ours = cpu.registers();
        if (ours.rip != after.rip && event == CpuUnderTest.StepEvent.EXECUTED && (ours.rflags & QemuDeviations.RF) == 0
                && cpu.atInstructionBreakpoint()) {
            // QEMU's step ends in an instruction breakpoint's #DB when the instruction it executed leads
            // to one (its debug-exception handler checks the breakpoints at the new RIP): the CPU under
            // test takes that #DB as a step of its own, done here so the states compare.
            event = cpu.step(answers);
            ours = cpu.registers();
            takenFromOracle.merge("instruction-breakpoint #DB in the same step (QEMU)", 1, Integer::sum);
        }
        for (int i = 0; special == SpecialInstruction.REP_STRING && ours.rip == before.rip
                && event == CpuUnderTest.StepEvent.EXECUTED && i < 1 << 20; i++) {
            event = cpu.step(answers);
            ours = cpu.registers();
        }
        if (QemuDeviations.instructionBreakpointDespiteRf(oracle, cpu, ours, after)) {
            after = oracle.state();
            takenFromOracle.merge("QEMU's gdbstub step raised an instruction breakpoint under RF: set back", 1, Integer::sum);
        }
        boolean resync = false;
        for (int g : special.registersFromOracle()) {
            if (ours.gpr[g] != after.gpr[g]) {
                ours.gpr[g] = after.gpr[g];
                resync = true;
            }
        }
        if (event == CpuUnderTest.StepEvent.MMIO_READ) {
            takenFromOracle.merge("MMIO read", 1, Integer::sum);
            // A device register was loaded (or compared): take QEMU's general registers and flags.
            System.arraycopy(after.gpr, 0, ours.gpr, 0, 16);
            ours.rflags = after.rflags;
            resync = true;
        }
        if ((ours.mxcsr ^ after.mxcsr) == QemuDeviations.MXCSR_DE && QemuDeviations.sseFloat(code, bits)) {
            ours.mxcsr = after.mxcsr; // QEMU 7.2 does not report denormal operands (QemuDeviations)
            takenFromOracle.merge("MXCSR.DE (QEMU 7.2 reports no denormal operands)", 1, Integer::sum);
            resync = true;
        }
        if (QemuDeviations.dr6FirstWatchpointOnly(code, bits, ours, after)) {
            takenFromOracle.merge("DR6 with one of two data breakpoints hit by one access (QEMU 7.2)", 1, Integer::sum);
            resync = true;
        }
        String lanes = QemuDeviations.sseFloatLanes(code, bits, before, ours, after);
        if (lanes != null) {
            takenFromOracle.merge(lanes, 1, Integer::sum);
            resync = true;
        }
        List<String> differences = ours.differences(after, undefined);
        if (differences.size() == 1 && differences.get(0).startsWith("ss:")
                && QemuDeviations.istWithoutPrivilegeChangeNullsSs(oracle, before, ours, after)) {
            cpu.load(after, oracle.segments());
            takenFromOracle.merge("SS after an IST delivery at the same CPL (QEMU 7.2 loads a null SS)", 1, Integer::sum);
            differences = List.of();
        }
        if (asleep) {
            differences = new java.util.ArrayList<>(differences);
            differences.add(0, "the CPU under test stayed halted: no interrupt, NMI or timer pending to wake it");
        }
        if (event == CpuUnderTest.StepEvent.FAILED || event == CpuUnderTest.StepEvent.SHUTDOWN) {
            differences = new java.util.ArrayList<>(differences);
            String detail = cpu.failureDetail();
            differences.add(0, "the CPU under test reported " + event + (detail == null ? "" : " (" + detail + ")"));
        }
        current = after;
        if (!differences.isEmpty()) {
            return new Mismatch(steps, before, code, bits, objdump.first(code, before.rip, bits), after, ours, undefined,
                    differences, special, portSize);
        }
        if (QemuDeviations.softwareInterruptErrorCode(code, bits, before, after)) {
            // QEMU 7.2's do_interrupt64 pushes vector * 16 + 2 as the #GP/#NP error code of a 64-bit
            // IDT gate check; the SDM (Vol. 3A §6.13) has the gate's index, vector * 8 + 2. Where ours
            // pushed the SDM's value, QEMU's is copied so its handler sees the same; anything else
            // in ours stays and surfaces when the handler reads it.
            long v = code[code[0] == (byte) 0xCD ? 1 : 0] & 0xFF;
            byte[] ourCode = cpu.readMemory(after.gpr[4], 8);
            long pushed = java.nio.ByteBuffer.wrap(ourCode).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            if (pushed == v * 8 + 2) {
                cpu.writeVirtual(after.gpr[4], oracle.read(after.gpr[4], 8));
                takenFromOracle.merge("INT n gate-check error code (QEMU: vector*16+2)", 1, Integer::sum);
            }
        }
        int frameBits = QemuDeviations.frameBitsFromOracle(oracle, cpu, before, after);
        if ((frameBits & QemuDeviations.FRAME_RF) != 0) takenFromOracle.merge("RF in a fault's pushed RFLAGS (QEMU 7.2 pushes 0)", 1, Integer::sum);
        if ((frameBits & QemuDeviations.FRAME_EXT) != 0) takenFromOracle.merge("EXT in an error code (QEMU 7.2 never sets it)", 1, Integer::sum);
        if (fxsave >= 0) {
            cpu.writeVirtual(fxsave, oracle.read(fxsave, 512));
            takenFromOracle.merge("FXSAVE image (CR4.OSFXSR=0)", 1, Integer::sum);
        }
        if (((ours.rflags ^ after.rflags) & fromOracle) != 0) takenFromOracle.merge("SYSCALL arithmetic flags", 1, Integer::sum);
        if (((ours.rflags ^ after.rflags) & undefined & ~fromOracle) != 0) {
            String what = objdump.first(code, before.rip, bits).text().split(" ")[0] + " "
                    + X86State.flagNames((ours.rflags ^ after.rflags) & undefined);
            undefinedFlagDifferences.merge(what, 1, Integer::sum);
        }
        if (((ours.rflags ^ after.rflags) & undefined) != 0) {
            ours.rflags = after.rflags;
            resync = true;
        }
        if (resync) cpu.setRegisters(ours);
        return null;
    }

    /**
     * QEMU ended during a step (isa-debug-exit, or a triple fault under -no-reboot): the CPU under
     * test steps the same instruction, and what it did is part of the message, so a caller can
     * check that it shut down too ({@code "the CPU under test: SHUTDOWN"}).
     */
    private GdbRemote.TargetGoneException gone(GdbRemote.StopReply r) throws Exception {
        CpuUnderTest.DeviceAnswers none = new CpuUnderTest.DeviceAnswers() {
            @Override
            public long portIn(int port, int size) {
                return -1;
            }

            @Override
            public long mmioRead(long physical, int size) {
                return -1;
            }
        };
        CpuUnderTest.StepEvent event = cpu.step(none);
        String detail = cpu.failureDetail();
        return new GdbRemote.TargetGoneException("QEMU ended: " + r.raw() + "; the CPU under test: " + event
                + (detail == null ? "" : " (" + detail + ")"));
    }

    /** The hidden segment state of both, compared; an empty list when they agree. */
    List<String> compareSegments() throws Exception {
        return cpu.segments().differences(oracle.segments());
    }

    /** {@code length} bytes at {@code physical} in both; null when equal, else a description of the first difference. */
    String compareMemory(long physical, int length) throws Exception {
        return compareMemory(physical, length, false);
    }

    /**
     * As {@link #compareMemory(long, int)}; with {@code ignoreAccessedBits} a byte that differs
     * only in bit 0, has P and S set and sits at an address ≡ 5 (mod 8) — the access byte of a
     * code/data descriptor in an 8-aligned GDT — is not a difference: QEMU TCG does not set the
     * Accessed bit when a far JMP/CALL/RET or IRET loads CS, which the SDM says the processor
     * does (Vol. 3A §3.4.5.1, "Code- and Data-Segment Descriptor Types"); the emulated CPU does.
     */
    String compareMemory(long physical, int length, boolean ignoreAccessedBits) throws Exception {
        // Small ranges through the gdbstub (the harness's kernels identity-map RAM), large through pmemsave.
        byte[] expected = length <= 65536 ? oracle.read(physical, length) : oracle.physical(physical, length);
        byte[] ours = cpu.readMemory(physical, length);
        for (int i = 0; i < length; i++) {
            if (expected[i] != ours[i]) {
                if (ignoreAccessedBits && (expected[i] ^ ours[i]) == 1 && (expected[i] & 0x90) == 0x90
                        && ((physical + i) & 7) == 5) {
                    continue;
                }
                int from = i & ~15, to = Math.min(length, from + 32);
                return String.format("memory differs first at %#x: expected %s, ours %s", physical + i,
                        HexFormat.ofDelimiter(" ").formatHex(expected, from, to),
                        HexFormat.ofDelimiter(" ").formatHex(ours, from, to));
            }
        }
        return null;
    }

    private static int portSize(byte[] code, int bits) {
        boolean opsize = false;
        for (byte b : code) {
            if ((b & 0xFF) == 0x66) opsize = true;
            else break;
        }
        return bits == 16 ? (opsize ? 4 : 2) : (opsize ? 2 : 4);
    }

    /** One disagreement, with everything needed to reproduce it from one instruction and its pre-state. */
    record Mismatch(long step, X86State before, byte[] code, int bits, Objdump.Line insn, X86State expected,
                    X86State ours, long ignoredFlags, List<String> differences, SpecialInstruction special, int portSize) {
        /** The mnemonic, the class mismatches are grouped by. */
        String mnemonic() {
            String t = insn.text().strip();
            String[] w = t.split("[ ,]+");
            String m = w.length > 0 ? w[0] : t;
            if ((m.startsWith("rep") || m.equals("lock") || m.equals("data16")) && w.length > 1) m = m + " " + w[1];
            return m;
        }

        /** Mnemonic plus which registers differ, e.g. "sar: rflags" — a mismatch class. */
        String kind() {
            StringBuilder sb = new StringBuilder(mnemonic()).append(":");
            for (String d : differences) sb.append(' ').append(d, 0, d.indexOf(':') < 0 ? d.length() : d.indexOf(':'));
            return sb.toString();
        }

        String report() {
            int len = Math.max(1, Math.min(insn.length(), code.length));
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("mismatch at step %d, rip %#x (%d-bit code): %s   [%s]%n", step, before.rip, bits,
                    insn.text(), HexFormat.ofDelimiter(" ").formatHex(code, 0, len)));
            for (String d : differences) sb.append("  ").append(d).append('\n');
            sb.append("state before (both):\n").append(indent(before.toString()));
            sb.append("QEMU after:\n").append(indent(expected.toString()));
            sb.append("ours after:\n").append(indent(ours.toString()));
            return sb.toString();
        }

        private static String indent(String s) {
            return "    " + s.replace("\n", "\n    ") + "\n";
        }
    }
}
