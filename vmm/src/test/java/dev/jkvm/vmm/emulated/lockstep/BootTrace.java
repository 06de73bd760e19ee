package dev.jkvm.vmm.emulated.lockstep;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The first instructions of a kernel's boot on QEMU and a CPU under test in lockstep. QEMU
 * ({@code -M pc}, one vCPU) runs its firmware and multiboot loader up to the kernel's ELF entry;
 * there its RAM, registers and hidden segment state are copied into the CPU under test, so both
 * start from identical state whatever loader produced it. Then both step; after every instruction
 * the registers are compared ({@link Lockstep}), after every change of CS, CR0, CR4 or EFER (and
 * every 20,000 steps) the hidden segment state and descriptor tables, at the end all RAM.
 *
 * <p>A trace ends at the step limit, when the guest leaves QEMU (isa-debug-exit), or at a HLT:
 * QEMU single-steps with interrupts held off, so a HLT would never complete. After a mismatch the
 * CPU under test is resynchronised from QEMU's registers and the trace goes on (up to
 * {@code maxMismatches}), so one run shows several mismatch classes.
 */
final class BootTrace {
    static final String MEMORY = "128M";
    static final long MEMORY_BYTES = 128L << 20;
    private static final long SEGMENT_CHECK_INTERVAL = 20_000;

    interface CpuFactory {
        CpuUnderTest create(Path kernel, long entry) throws Exception;
    }

    record Result(String image, long steps, String end, List<Lockstep.Mismatch> mismatches, List<String> otherDifferences,
                  java.util.Map<String, Integer> undefinedFlagDifferences, int distinctAddresses,
                  java.util.Map<String, Integer> takenFromOracle, X86State oracleEnd) {
        boolean agreed() {
            return mismatches.isEmpty() && otherDifferences.isEmpty();
        }

        String summary() {
            StringBuilder sb = new StringBuilder(String.format("%s: %d instructions compared (%d distinct addresses), ended: %s, "
                    + "%d register mismatches, %d other differences%nresults taken from QEMU: %s%n",
                    image, steps, distinctAddresses, end, mismatches.size(), otherDifferences.size(), takenFromOracle));
            java.util.Set<String> kinds = new java.util.HashSet<>();
            for (Lockstep.Mismatch m : mismatches) {
                if (kinds.add(m.kind())) sb.append("--- class '").append(m.kind()).append("'\n").append(m.report());
            }
            for (String d : otherDifferences) sb.append(d).append('\n');
            if (!undefinedFlagDifferences.isEmpty()) {
                sb.append("undefined flags set differently from QEMU (ignored, SDM-undefined): ").append(undefinedFlagDifferences).append('\n');
            }
            return sb.toString();
        }
    }

    private BootTrace() {}

    static Result run(String imageName, long maxSteps, CpuFactory factory, int maxMismatches) throws Exception {
        return run(imageName, null, maxSteps, factory, maxMismatches);
    }

    /**
     * As {@link #run(String, long, CpuFactory, int)}, starting at symbol (or hex address)
     * {@code from} instead of the entry: QEMU runs there freely (interrupts and all), then its
     * state is copied and the lockstep begins.
     */
    static Result run(String imageName, String from, long maxSteps, CpuFactory factory, int maxMismatches) throws Exception {
        return run(imageName, from, maxSteps, factory, maxMismatches, null);
    }

    /** Changes QEMU's state (registers, memory) at the start point, before it is copied into the CPU under test. */
    interface Preparation {
        /** Returns a label for the result (what the trace starts from). */
        String prepare(QemuTarget q, Path kernel) throws Exception;
    }

    /** As {@link #run(String, String, long, CpuFactory, int)}, with QEMU's state at the start changed by {@code preparation}. */
    static Result run(String imageName, String from, long maxSteps, CpuFactory factory, int maxMismatches,
                      Preparation preparation) throws Exception {
        // An image name of the images module, or the absolute path of a kernel a test built.
        Path kernel = imageName.startsWith("/") ? Path.of(imageName) : Images.file(imageName);
        long entry;
        try {
            entry = from == null ? Images.entry(kernel) : Images.symbol(kernel, from);
        } catch (IllegalArgumentException e) {
            throw new NotReached(e.getMessage());
        }
        Objdump objdump = new Objdump();
        List<Lockstep.Mismatch> mismatches = new ArrayList<>();
        List<String> other = new ArrayList<>();
        String end = "step limit " + maxSteps;
        long steps = 0;
        java.util.Map<String, Integer> undefined = new java.util.TreeMap<>();
        java.util.Map<String, Integer> fromOracle = new java.util.TreeMap<>();
        int distinct = 0;
        X86State oracleEnd = null;
        try (QemuTarget q = QemuTarget.start(kernel, "pc", MEMORY); CpuUnderTest cpu = factory.create(kernel, entry)) {
            try {
                q.runTo(entry);
            } catch (GdbRemote.TargetGoneException gone) {
                throw new NotReached(imageName + " exited before reaching 0x" + Long.toHexString(entry)
                        + (from == null ? "" : " (" + from + ")"));
            }
            String label = preparation == null ? null : preparation.prepare(q, kernel);
            if (label != null) from = (from == null ? "" : from + ", ") + label;
            Lockstep lock = new Lockstep(q, cpu, objdump);
            if (!cpu.bootsItself()) lock.copyEverything(MEMORY_BYTES);
            SegmentState start = q.segments();
            int bits = bits(start);
            // Code bytes are read at the linear address: CS base + RIP outside 64-bit mode (QEMU's
            // gdbstub takes linear addresses), so real-mode code at CS 0800 reads from 0x8000 + IP.
            long csBase = bits == 64 ? 0 : start.base()[1];
            while (steps < maxSteps) {
                X86State before = lock.oracleState();
                byte[] code = q.read((csBase + before.rip) & (bits == 64 ? -1L : 0xFFFF_FFFFL), 16);
                if (SpecialInstruction.of(code, bits) == SpecialInstruction.HLT) {
                    end = "HLT at 0x" + Long.toHexString(before.rip);
                    break;
                }
                Lockstep.Mismatch m;
                try {
                    m = lock.step(code, bits);
                } catch (GdbRemote.TargetGoneException gone) {
                    end = "the guest left QEMU (" + gone.getMessage() + ")";
                    break;
                }
                steps++;
                if (m != null) {
                    mismatches.add(m);
                    if (mismatches.size() >= maxMismatches) {
                        end = "after " + maxMismatches + " mismatches";
                        break;
                    }
                    lock.copyRegisters(true);
                }
                X86State after = lock.oracleState();
                if (after.selector[1] != before.selector[1] || after.cr0 != before.cr0 || after.cr4 != before.cr4
                        || after.efer != before.efer || farTransfer(code, bits) || steps % SEGMENT_CHECK_INTERVAL == 0) {
                    SegmentState seg = q.segments();
                    bits = bits(seg);
                    csBase = bits == 64 ? 0 : seg.base()[1];
                    List<String> d = cpu.segments().differences(seg);
                    if (!d.isEmpty()) {
                        other.add("hidden state differs after step " + steps + " (rip 0x" + Long.toHexString(before.rip) + "): " + d);
                        cpu.load(after, seg);
                    }
                }
            }
            if (q.alive()) {
                try {
                    List<String> d = lock.compareSegments();
                    if (!d.isEmpty()) other.add("hidden state differs at the end: " + d);
                    if (!cpu.bootsItself()) {
                        String mem = lock.compareMemory(0, (int) Math.min(Integer.MAX_VALUE - 8, MEMORY_BYTES), true);
                        if (mem != null) other.add("RAM at the end: " + mem);
                    }
                } catch (java.io.IOException gone) {
                    // the guest exited during the last step (the connection may reset while QEMU exits)
                }
            }
            undefined.putAll(lock.undefinedFlagDifferences);
            fromOracle.putAll(lock.takenFromOracle);
            distinct = lock.addresses.size();
            oracleEnd = lock.oracleState();
        }
        return new Result(imageName + (from == null ? "" : " from " + from), steps, end, mismatches, other, undefined, distinct, fromOracle, oracleEnd);
    }

    /** The start address is not reached (the guest exits first) or not in the image. */
    static final class NotReached extends RuntimeException {
        NotReached(String message) {
            super(message);
        }
    }

    /**
     * A far JMP/CALL/RET or IRET: CS is reloaded, possibly with the same selector and another
     * descriptor (the far jump into 64-bit code after the CR0 write that enabled long mode).
     */
    private static boolean farTransfer(byte[] code, int bits) {
        int i = 0;
        while (i < code.length - 1 && ((code[i] & 0xFF) == 0x66 || (code[i] & 0xFF) == 0x67
                || (bits == 64 && (code[i] & 0xF0) == 0x40))) {
            i++;
        }
        int op = code[i] & 0xFF;
        if (op == 0xEA || op == 0x9A || op == 0xCA || op == 0xCB || op == 0xCF) return true;
        return op == 0xFF && i + 1 < code.length && ((code[i + 1] >> 3) & 7) >= 3 && ((code[i + 1] >> 3) & 7) <= 5
                && ((code[i + 1] >> 3) & 7) != 4;
    }

    /** The code segment's default operand size: CS.L → 64, CS.D → 32, else 16 (SDM Vol. 3A §3.4.5). */
    static int bits(SegmentState s) {
        int attr = s.attr()[1];
        return (attr & 1 << 13) != 0 ? 64 : (attr & 1 << 14) != 0 ? 32 : 16;
    }

    /** A second QEMU booted to the same entry: for the harness's own tests. */
    static CpuFactory qemuTwin() {
        return (kernel, entry) -> {
            QemuTarget twin = QemuTarget.start(kernel, "pc", MEMORY);
            try {
                twin.runTo(entry);
            } catch (Exception e) {
                twin.close();
                throw e;
            }
            return new QemuCpuUnderTest(twin);
        };
    }
}
