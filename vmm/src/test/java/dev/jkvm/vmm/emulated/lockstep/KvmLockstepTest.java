package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.asm.Mode;
import dev.jkvm.testsupport.KvmTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 11 §5: "on a host with KVM, the KVM backend is a second oracle". The random programs of
 * {@link RandomProgramLockstepTest} run on the project's KVM backend ({@link KvmCpuUnderTest},
 * single-stepped with KVM_GUESTDBG_SINGLESTEP) in lockstep with QEMU TCG, compared after every
 * instruction exactly as the emulated CPU is (same masks: {@link UndefinedFlags},
 * {@link QemuDeviations}); the same programs then run on the emulated CPU against QEMU. A program
 * on which both agree with QEMU instruction by instruction is one on which the emulated CPU agrees
 * with KVM; a disagreement of KVM is a QEMU deviation from KVM that the QEMU lockstep cannot see,
 * unless {@link KvmDeviations} explains it by this KVM itself (on kvm_pvm, ring-0 code runs through
 * KVM's instruction emulator, which lacks SSE2 integer operations, POPCNT, nested ENTER and
 * CMPXCHG16B and treats LZCNT/TZCNT as BSR/BSF). Programs run in ring 0 (the lockstep kernel's).
 *
 * <p>CI runs a fast subset; more on demand: {@code -Dlockstep.kvm.count=N} (64-bit, stepwise),
 * {@code -Dlockstep.kvm.legacy.count=N} (32- and 16-bit), {@code -Dlockstep.seed=N}.
 */
@KvmTest
class KvmLockstepTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        String why = KvmCpuUnderTest.unavailableReason();
        assumeTrue(why == null, () -> "KVM is not usable: " + why);
        assumeTrue(EmulatedCpuUnderTest.available(), "the emulated CPU cannot execute yet");
    }

    private static final RandomProgramRun.CpuFactory KVM = (kernel, model) -> new KvmCpuUnderTest(RandomProgramRun.MEMORY_BYTES);
    private static final RandomProgramRun.CpuFactory EMULATED = (kernel, model) -> new EmulatedCpuUnderTest(RandomProgramRun.MEMORY_BYTES);

    @ParameterizedTest
    @ValueSource(strings = {"LONG64", "PROTECTED32", "REAL16"})
    void randomProgramsAgreeBetweenQemuAndKvm(String modeName) throws Exception {
        Mode mode = Mode.valueOf(modeName);
        long seed = Long.getLong("lockstep.seed", 20261203L) + 7;
        int count = mode == Mode.LONG64 ? Integer.getInteger("lockstep.kvm.count", 100)
                : Integer.getInteger("lockstep.kvm.legacy.count", 50);
        int length = Integer.getInteger("lockstep.length", 24);
        boolean stepwise = Boolean.getBoolean("lockstep.kvm.stepwise");
        long t0 = System.nanoTime();
        RandomProgramRun.Result r = RandomProgramRun.run(KVM, seed, count, length, "max", stepwise, mode);
        // The same programs on the emulated CPU: where both agree with QEMU, they agree with each other.
        RandomProgramRun.Result e = RandomProgramRun.run(EMULATED, seed, count, length, "max", stepwise, mode);
        String summary = "seed " + seed + " " + mode + " QEMU vs KVM (" + (stepwise ? "stepwise" : "fast path") + "): "
                + r.summary(new Objdump()) + "\nthe same programs, QEMU vs the emulated CPU: " + e.summary(new Objdump());
        List<RandomProgramRun.Failure> unexplained = new ArrayList<>();
        Map<String, Integer> explained = new TreeMap<>();
        for (RandomProgramRun.Failure f : r.failures()) {
            String why = KvmDeviations.explain(f.report());
            if (why == null) unexplained.add(f);
            else explained.merge(why, 1, Integer::sum);
        }
        int compared = count - r.failures().size();
        System.out.printf("%s%n%d of %d programs agreed on all three CPUs; programs KVM could not be compared on, for a "
                + "known reason of this KVM: %s%n(%.1f s)%n", summary, compared, count, explained, (System.nanoTime() - t0) / 1e9);
        assertTrue(unexplained.isEmpty() && e.failures().isEmpty(), unexplained.size() + " programs disagreed with KVM for no known reason:\n" + summary);
        assertTrue(compared > 0, "KVM could compare none of the programs:\n" + summary);
    }

    @Test
    void kvmDeviationsExplainOnlyWhatTheyName() {
        String ok = "seed 1 program 2: mismatch at step 3, rip 0x1000 (64-bit code): add %eax,%ebx   [01 c3]\n  rbx: expected 0x1, ours 0x2\n";
        assertTrue(KvmDeviations.explain(ok) == null, "a wrong ADD is never explained away");
    }

    @Test
    void aWrongResultOfKvmIsCaught() throws Exception {
        // The comparison can fail with KVM as the CPU under test too: RDX bit 40 flipped after each
        // program's first instruction.
        RandomProgramRun.CpuFactory faulty = (kernel, model) -> new FaultInjectingCpu(
                new KvmCpuUnderTest(RandomProgramRun.MEMORY_BYTES), kernel.program, s -> s.gpr[2] ^= 1L << 40);
        RandomProgramRun.Result r = RandomProgramRun.run(faulty, 5, 3, 24, "max", true);
        String summary = r.summary(new Objdump());
        assertTrue(r.failures().size() == 3, summary);
        for (RandomProgramRun.Failure f : r.failures()) {
            assertTrue(f.report().contains("mismatch at step 1,") && f.report().contains("rdx: expected"), f.report());
        }
    }
}
