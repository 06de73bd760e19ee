package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * RemoteCall's target check at both ends of the CPU range: CPU 0 is a valid target, and a CPU
 * index equal to the CPU count is offline even when the online mask (wider than the machine)
 * has its bit set. RemoteCallTest only ever called CPUs in the middle of the range.
 */
class RemoteCallEdgesTest {
    private static final int CPU_COUNT = 3;
    private static final long SECOND = 1_000_000_000L;

    private final AtomicInteger runs = new AtomicInteger();

    @BeforeEach
    void bindRegistry() {
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            runs.incrementAndGet();
            return 0;
        });
    }

    @Test
    void cpu0IsATargetLikeAnyOther() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1, 2);
            int[] result = {-1};
            smp.run(new int[] {0, 2}, cpu -> {
                if (cpu == 2) {
                    result[0] = RemoteCall.call(smp.calls, online, 2, 0, 1, 0x10L, 60 * SECOND);
                }
            });
            assertEquals(RemoteCall.OK, result[0]);
            assertEquals(1, runs.get());
        }
    }

    @Test
    void theCpuCountItselfIsOfflineWhateverTheMaskSays() throws Exception {
        try (SimulatedSmp smp = new SimulatedSmp(CPU_COUNT, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            long online = smp.mask(0, 1, 2, CPU_COUNT, CpuMask.WORDS * 64 - 1);
            assertEquals(RemoteCall.OFFLINE, RemoteCall.call(smp.calls, online, 0, CPU_COUNT, 1, 0L, SECOND));
            assertEquals(RemoteCall.OFFLINE, RemoteCall.call(smp.calls, online, 0, CpuMask.WORDS * 64 - 1, 1, 0L, SECOND));
            assertEquals(0, smp.ipisSent.get());
            assertEquals(0, runs.get());
        }
    }
}
