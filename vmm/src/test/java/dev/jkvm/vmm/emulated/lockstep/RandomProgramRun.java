package dev.jkvm.vmm.emulated.lockstep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

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
    record Failure(int index, byte[] code, long address, String kind, String report) {}

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
                        .append("program:\n").append(objdump.listing(f.code, f.address, 64));
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
        LockstepKernel kernel = LockstepKernel.build();
        Objdump objdump = new Objdump();
        List<Failure> failures = new ArrayList<>();
        Map<String, Failure> classes = new LinkedHashMap<>();
        long steps = 0;
        int replayed = 0;
        Map<String, Integer> undefined = new java.util.TreeMap<>();
        try (QemuTarget q = QemuTarget.start(kernel.file, "pc", MEMORY, qemuCpuModel);
             CpuUnderTest cpu = factory.create(kernel, qemuCpuModel)) {
            q.runTo(kernel.program);
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
                byte[] program = RandomProgram.generate(rnd, length, kernel.program, !stepwise);
                byte[] code = Arrays.copyOf(program, program.length + 16);
                Arrays.fill(code, program.length, code.length, (byte) 0xF4);
                long end = kernel.program + program.length;
                byte[] data = new byte[LockstepKernel.BUFFER_BYTES];
                rnd.nextBytes(data);
                byte[] stack = new byte[STACK_CHECK + 64];
                rnd.nextBytes(stack);
                X86State start = base.copy();
                for (int r = 0; r < 16; r++) start.gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong();
                start.gpr[4] = base.gpr[4];
                start.gpr[14] = rnd.nextInt(16);
                start.gpr[15] = kernel.buffer;
                start.rip = kernel.program;
                start.rflags = 0x2 | (rnd.nextLong() & X86State.ARITHMETIC) | (rnd.nextInt(4) == 0 ? X86State.DF : 0);
                for (int x = 0; x < 32; x++) start.xmm[x] = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong();
                q.write(kernel.program, code);
                q.write(kernel.buffer, data);
                q.write(stackLow, stack);
                cpu.writeMemory(kernel.program, code);
                cpu.writeMemory(kernel.buffer, data);
                cpu.writeMemory(stackLow, stack);
                q.setState(start);
                lock.copyRegisters(false);

                Counts counts;
                try {
                    counts = runOne(q, cpu, lock, kernel, i, seed, length, stepwise, program, code, data, stack, stackLow, start, end,
                            failures, classes);
                } catch (GdbRemote.TargetGoneException gone) {
                    // QEMU shut down: the program faulted there (no IDT in the host kernel: a triple
                    // fault). A generator bug, reported with the program; the run cannot go on.
                    Failure f = new Failure(i, program, kernel.program, "harness: QEMU shut down",
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

    private static Counts runOne(QemuTarget q, CpuUnderTest cpu, Lockstep lock, LockstepKernel kernel, int i, long seed,
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
                            && lock.compareMemory(kernel.buffer, LockstepKernel.BUFFER_BYTES) == null
                            && lock.compareMemory(stackLow, stack.length) == null) {
                        return new Counts(executed, 0);
                    }
                    replayed++;
                    q.write(kernel.buffer, data);
                    q.write(stackLow, stack);
                    cpu.writeMemory(kernel.buffer, data);
                    cpu.writeMemory(stackLow, stack);
                    q.setState(start);
                    lock.copyRegisters(false);
                    lock.restartStepCount();
                }
                int bound = 20 * length + 64;
                for (int n = 0; n < bound && lock.oracleState().rip != end; n++) {
                    long rip = lock.oracleState().rip;
                    int off = (int) (rip - kernel.program);
                    byte[] insn = off >= 0 && off + 16 <= code.length ? Arrays.copyOfRange(code, off, off + 16) : q.read(rip, 16);
                    Lockstep.Mismatch m = lock.step(insn, 64);
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
                    String mem = lock.compareMemory(kernel.buffer, LockstepKernel.BUFFER_BYTES);
                    if (mem == null) mem = lock.compareMemory(stackLow, stack.length);
                    if (mem != null) {
                        failure = mem + "\n(registers agreed after every instruction; the program wrote memory differently)\n";
                        kind = "memory";
                    }
                }
                if (failure != null) {
                    Failure f = new Failure(i, program, kernel.program, kind, "seed " + seed + " program " + i + ": " + failure);
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
