package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pages of random bytes executed by the executor in each mode: every program ends in a guest
 * exception or runs out of budget; no Java exception other than {@link CpuException} escapes.
 * System instructions go to the real system side (they may fault too).
 */
class RandomBytesFuzzTest {
    private static final int PROGRAMS = 1500;

    @ParameterizedTest
    @ValueSource(ints = {Decoder.MODE16, Decoder.MODE32, Decoder.MODE64})
    void randomCodeEndsInAGuestExceptionOrTheBudget(int mode) {
        Random rnd = new Random(7L * mode);
        List<String> failures = new ArrayList<>();
        IsaMachine m = new IsaMachine(mode);
        byte[] page = new byte[4096];
        int faults = 0;
        for (int p = 0; p < PROGRAMS; p++) {
            rnd.nextBytes(page);
            m.setMode(mode);
            m.load(IsaMachine.CODE, page);
            for (int r = 0; r < 16; r++) m.s.gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextLong() : rnd.nextInt(0x10000) + IsaMachine.DATA;
            m.s.gpr[CpuState.RSP] = IsaMachine.STACK;
            m.s.rip = IsaMachine.CODE;
            try {
                for (int i = 0; i < 20 && m.s.activity == CpuState.Activity.RUNNING; i++) {
                    m.cpu.events.take(-1);
                    m.executor.run(200);
                }
            } catch (CpuException e) {
                faults++;
            } catch (RuntimeException | StackOverflowError e) {
                if (failures.size() < 20) {
                    failures.add("program " + p + " at RIP 0x" + Long.toHexString(m.s.rip) + " bytes "
                            + HexFormat.of().formatHex(page, (int) Math.max(0, Math.min(4080, m.s.rip - IsaMachine.CODE)),
                            (int) Math.max(0, Math.min(4080, m.s.rip - IsaMachine.CODE)) + 16) + ": " + e);
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(faults > PROGRAMS / 2, "only " + faults + " programs faulted");
    }
}
