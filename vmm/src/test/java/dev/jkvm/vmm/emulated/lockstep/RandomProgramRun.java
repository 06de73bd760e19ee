package dev.jkvm.vmm.emulated.lockstep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import dev.jkvm.klib.asm.Mode;

/**
 * Runs random programs ({@link RandomProgram}) on QEMU and a CPU under test in lockstep, inside
 * the {@link LockstepKernel}: each program gets fresh random general registers, random arithmetic
 * flags and DF, a random 4 KiB data buffer (R15) and a small index (R14), then both CPUs step it
 * instruction by instruction; after its last instruction the buffer and the stack below RSP are
 * compared too. Program {@code i} of seed {@code s} is reproducible alone: its generator is seeded
 * with {@code s * 1_000_003 + i}.
 */
final class RandomProgramRun {
    /** QEMU's RAM for the lockstep kernel (it needs ~2 MiB; copied once into the CPU under test). */
    static final String MEMORY = "16M";
    static final long MEMORY_BYTES = 16L << 20;
    private static final int STACK_CHECK = 2048;

    /** Makes the CPU under test for a kernel stopped at {@code stopAt} (QEMU's CPU model given for twins). */
    interface CpuFactory {
        CpuUnderTest create(LockstepKernel kernel, String qemuCpuModel) throws Exception;
    }

    /** A program whose run disagreed, with its first mismatch (or memory difference). */
    record Failure(int index, byte[] code, long address, int bits, String kind, String report) {}

    record Result(int programs, long steps, int replayed, List<Failure> failures, Map<String, Failure> classes,
                  Map<String, Integer> undefinedFlagDifferences) {
        String summary(Objdump objdump) {
            StringBuilder sb = new StringBuilder();
            sb.append(programs).append(" programs, ").append(steps).append(" instructions compared, ")
                    .append(replayed).append(" replayed stepwise, ")
                    .append(failures.size()).append(" programs disagreed in ").append(classes.size()).append(" classes\n");
            if (!undefinedFlagDifferences.isEmpty()) {
                sb.append("undefined flags set differently from QEMU (ignored, SDM-undefined): ").append(undefinedFlagDifferences).append('\n');
            }
            for (Map.Entry<String, Failure> e : classes.entrySet()) {
                long n = failures.stream().filter(f -> f.kind.equals(e.getKey())).count();
                Failure f = e.getValue();
                sb.append("\n=== class '").append(e.getKey()).append("' (").append(n).append(" programs); smallest: program ")
                        .append(f.index).append(" ===\n").append(f.report)
                        .append("program:\n").append(objdump.listing(f.code, f.address, f.bits));
            }
            return sb.toString();
        }
    }

    private RandomProgramRun() {}

    /**
     * Runs {@code count} programs of about {@code length} instructions. With {@code stepwise} every
     * instruction is compared; otherwise each program runs to its end on both CPUs at full speed and
     * only programs whose final state differs are replayed one instruction at a time (a difference
     * that the replay does not reproduce came from undefined flags and is no failure).
     */
    static Result run(CpuFactory factory, long seed, int count, int length, String qemuCpuModel, boolean stepwise) throws Exception {
        return run(factory, seed, count, length, qemuCpuModel, stepwise, Mode.LONG64);
    }

    /** Real-mode layout (below 64 KiB, segment bases 0): program, data buffer, stack top. */
    static final long REAL_PROGRAM = 0x1000, REAL_BUFFER = 0x5000, REAL_STACK_TOP = 0x7800;

    /**
     * As {@link #run(CpuFactory, long, int, int, String, boolean)} for code of {@code mode}: 64-bit
     * code in the lockstep kernel's long mode; 32-bit code at its multiboot entry (flat protected
     * mode, paging off); 16-bit code in real mode at QEMU's reset state with CS=DS=ES=SS=0.
     */
    static Result run(CpuFactory factory, long seed, int count, int length, String qemuCpuModel, boolean stepwise,
                      Mode mode) throws Exception {
        return run(factory, seed, count, length, qemuCpuModel, stepwise, mode, 0);
    }

    /** As {@link #run(CpuFactory, long, int, int, String, boolean, Mode)} with {@code floatPercent} (see {@link RandomProgram}). */
    static Result run(CpuFactory factory, long seed, int count, int length, String qemuCpuModel, boolean stepwise,
                      Mode mode, int floatPercent) throws Exception {
        int bits = mode == Mode.LONG64 ? 64 : mode == Mode.PROTECTED32 ? 32 : 16;
        LockstepKernel kernel = LockstepKernel.build();
        Objdump objdump = new Objdump();
        List<Failure> failures = new ArrayList<>();
        Map<String, Failure> classes = new LinkedHashMap<>();
        long steps = 0;
        int replayed = 0;
        Map<String, Integer> undefined = new java.util.TreeMap<>();
        try (QemuTarget q = QemuTarget.start(kernel.file, "pc", MEMORY, qemuCpuModel);
             CpuUnderTest cpu = factory.create(kernel, qemuCpuModel)) {
            long programAddress = bits == 16 ? REAL_PROGRAM : kernel.program;
            long bufferAddress = bits == 16 ? REAL_BUFFER : kernel.buffer;
            if (bits == 64) q.runTo(kernel.program);
            if (bits == 32) q.runTo(kernel.image.entryPoint());
            if (bits == 16) {
                // From the reset state (real mode, CS=F000 base FFFF0000): flat real mode at 0.
                q.setSelectors(0, 0, 0, 0);
                X86State r = q.state();
                r.gpr[4] = REAL_STACK_TOP;
                q.setState(r);
            }
            if (cpu.bootsItself() && bits == 16) {
                cpu.load(q.state(), q.segments());
            }
            Lockstep lock = new Lockstep(q, cpu, objdump);
            if (!cpu.bootsItself()) lock.copyEverything(MEMORY_BYTES);
            X86State base = q.state();
            long stackLow = base.gpr[4] - STACK_CHECK;
            boolean reload = false;
            for (int i = 0; i < count; i++) {
                if (reload && !cpu.bootsItself()) {
                    // The CPU under test diverged: start the next program from QEMU's whole state again.
                    q.setState(base);
                    lock.copyEverything(MEMORY_BYTES);
                }
                reload = false;
                Random rnd = new Random(seed * 1_000_003L + i);
                byte[] program = RandomProgram.generate(rnd, length, programAddress, !stepwise, mode, floatPercent);
                byte[] code = Arrays.copyOf(program, program.length + 16);
                Arrays.fill(code, program.length, code.length, (byte) 0xF4);
                long end = programAddress + program.length;
                byte[] data = new byte[LockstepKernel.BUFFER_BYTES];
                rnd.nextBytes(data);
                byte[] stack = new byte[STACK_CHECK + 64];
                rnd.nextBytes(stack);
                X86State start = base.copy();
                for (int r = 0; r < 16; r++) start.gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong();
                if (bits != 64) {
                    // Outside 64-bit mode QEMU's gdbstub shows (and keeps) 32-bit registers.
                    for (int r = 0; r < 16; r++) start.gpr[r] = r < 8 ? start.gpr[r] & 0xFFFF_FFFFL : base.gpr[r];
                }
                start.gpr[4] = base.gpr[4];
                if (bits == 64) {
                    start.gpr[14] = rnd.nextInt(16);
                    start.gpr[15] = kernel.buffer;
                } else {
                    start.gpr[5] = bufferAddress;
                }
                start.rip = programAddress;
                start.rflags = 0x2 | (rnd.nextLong() & X86State.ARITHMETIC) | (rnd.nextInt(4) == 0 ? X86State.DF : 0);
                if (bits == 64) for (int x = 0; x < 32; x++) start.xmm[x] = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong();
                q.write(programAddress, code);
                q.write(bufferAddress, data);
                q.write(stackLow, stack);
                cpu.writeMemory(programAddress, code);
                cpu.writeMemory(bufferAddress, data);
                cpu.writeMemory(stackLow, stack);
                q.setState(start);
                lock.copyRegisters(false);

                Counts counts;
                try {
                    counts = runOne(q, cpu, lock, programAddress, bufferAddress, bits, i, seed, length, stepwise, program, code,
                            data, stack, stackLow, start, end, failures, classes);
                } catch (GdbRemote.TargetGoneException gone) {
                    // QEMU shut down: the program faulted there (no IDT in the host kernel: a triple
                    // fault). A generator bug, reported with the program; the run cannot go on.
                    Failure f = new Failure(i, program, programAddress, bits, "harness: QEMU shut down",
                            "seed " + seed + " program " + i + ": QEMU ended during the program (" + gone.getMessage() + ")\n");
                    failures.add(f);
                    classes.putIfAbsent(f.kind(), f);
                    break;
                }
                if (!failures.isEmpty() && failures.getLast().index() == i) reload = true;
                steps += counts.steps();
                replayed += counts.replayed();
            }
            undefined.putAll(lock.undefinedFlagDifferences);
        }
        return new Result(count, steps, replayed, failures, classes, undefined);
    }

    /** Instructions compared and stepwise replays of one program. */
    private record Counts(long steps, int replayed) {}

    private static Counts runOne(QemuTarget q, CpuUnderTest cpu, Lockstep lock, long programAddress, long bufferAddress,
                                 int bits, int i, long seed,
                               int length, boolean stepwise, byte[] program, byte[] code, byte[] data, byte[] stack,
                               long stackLow, X86State start, long end, List<Failure> failures,
                               Map<String, Failure> classes) throws Exception {
                long steps = 0;
                int replayed = 0;
                String failure = null;
                String kind = null;
                lock.restartStepCount();
                if (!stepwise) {
                    // Fast path: both run to the end; only a difference in the final state (registers,
                    // buffer, and the stack with every instruction's flags pushed, so undefined flags
                    // can cause it too) is replayed one instruction at a time.
                    q.runTo(end);
                    X86State qEnd = q.state();
                    long executed = cpu.runTo(end, 20L * length + 64);
                    X86State ours = cpu.registers();
                    if (ours.differences(qEnd, 0).isEmpty()
                            && lock.compareMemory(bufferAddress, LockstepKernel.BUFFER_BYTES) == null
                            && lock.compareMemory(stackLow, stack.length) == null) {
                        return new Counts(executed, 0);
                    }
                    replayed++;
                    q.write(bufferAddress, data);
                    q.write(stackLow, stack);
                    cpu.writeMemory(bufferAddress, data);
                    cpu.writeMemory(stackLow, stack);
                    q.setState(start);
                    lock.copyRegisters(false);
                    lock.restartStepCount();
                }
                int bound = 20 * length + 64;
                for (int n = 0; n < bound && lock.oracleState().rip != end; n++) {
                    long rip = lock.oracleState().rip;
                    int off = (int) (rip - programAddress);
                    byte[] insn = off >= 0 && off + 16 <= code.length ? Arrays.copyOfRange(code, off, off + 16) : q.read(rip, 16);
                    Lockstep.Mismatch m = lock.step(insn, bits);
                    steps++;
                    if (m != null) {
                        failure = m.report();
                        kind = m.kind();
                        break;
                    }
                }
                if (failure == null && lock.oracleState().rip != end) {
                    failure = "QEMU did not reach the program's end 0x" + Long.toHexString(end) + " (at 0x"
                            + Long.toHexString(lock.oracleState().rip) + ")\n";
                    kind = "harness: program did not end";
                }
                if (failure == null) {
                    String mem = lock.compareMemory(bufferAddress, LockstepKernel.BUFFER_BYTES);
                    if (mem == null) mem = lock.compareMemory(stackLow, stack.length);
                    if (mem != null) {
                        failure = mem + "\n(registers agreed after every instruction; the program wrote memory differently)\n";
                        kind = "memory";
                    }
                }
                if (failure != null) {
                    Failure f = new Failure(i, program, programAddress, bits, kind, "seed " + seed + " program " + i + ": " + failure);
                    failures.add(f);
                    Failure prev = classes.get(kind);
                    if (prev == null || prev.code.length > program.length) classes.put(kind, f);
                }
                return new Counts(steps, replayed);
    }

    /** A second QEMU booted to the same point, optionally with a fake bug in each program's first instruction: for the harness's own tests. */
    static CpuFactory qemuTwin(java.util.function.Consumer<X86State> corruptionAtProgramStart) {
        return (kernel, model) -> {
            QemuTarget twin = QemuTarget.start(kernel.file, "pc", MEMORY, model);
            try {
                twin.runTo(kernel.program);
            } catch (Exception e) {
                twin.close();
                throw e;
            }
            QemuCpuUnderTest c = new QemuCpuUnderTest(twin);
            return corruptionAtProgramStart != null ? new FaultInjectingCpu(c, kernel.program, corruptionAtProgramStart) : c;
        };
    }
}
