package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpiMailboxTest {
    private static final int[] REASONS = {IpiReason.RESCHEDULE, IpiReason.TLB_SHOOTDOWN, IpiReason.CALL_FUNCTION,
            IpiReason.PANIC, IpiReason.TIMER};

    @Test
    void sendsOnlyWhenNoIpiIsAlreadyDue() {
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            sent.add(args[0] + "@" + Long.toHexString(args[1]));
            return 0;
        });
        try (Arena arena = Arena.ofConfined()) {
            long mailbox = arena.allocate(IpiMailbox.bytesFor(4), 64).address();
            IpiMailbox.init(mailbox, 4, 0xF3);
            IpiMailbox.post(mailbox, 2, IpiReason.RESCHEDULE);
            IpiMailbox.post(mailbox, 2, IpiReason.TIMER);
            IpiMailbox.post(mailbox, 2, IpiReason.RESCHEDULE);
            IpiMailbox.post(mailbox, 1, IpiReason.RESCHEDULE);
            assertEquals(List.of("2@f3", "1@f3"), sent);
            assertEquals(IpiReason.RESCHEDULE | IpiReason.TIMER, IpiMailbox.take(mailbox, 2));
            assertEquals(0, IpiMailbox.pending(mailbox, 2));
            assertEquals(0, IpiMailbox.take(mailbox, 3));
            IpiMailbox.post(mailbox, 2, IpiReason.PANIC);
            assertEquals(List.of("2@f3", "1@f3", "2@f3"), sent);
            assertEquals(IpiReason.RESCHEDULE, IpiMailbox.pending(mailbox, 1));
        }
    }

    @Test
    void postManySkipsTheSenderAndCpusBeyondTheCount() {
        List<Long> sent = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            sent.add(args[0]);
            return 0;
        });
        try (Arena arena = Arena.ofConfined()) {
            long mailbox = arena.allocate(IpiMailbox.bytesFor(70), 64).address();
            IpiMailbox.init(mailbox, 70, 0xF3);
            long mask = arena.allocate(CpuMask.SIZE, 8).address();
            CpuMask.clearAll(mask);
            for (int cpu : new int[] {0, 1, 3, 69, 70, 1000}) {
                CpuMask.set(mask, cpu);
            }
            IpiMailbox.postMany(mailbox, 1, mask, IpiReason.RESCHEDULE);
            assertEquals(List.of(0L, 3L, 69L), sent);
        }
    }

    /**
     * Every CPU posts random reasons to random CPUs while taking its own IPIs. A request counts
     * as served once a handler run on its target saw its bit after it was requested; whatever
     * the interleaving, no request may remain unserved once all IPIs were taken.
     */
    @Test
    void coalescedRequestsAreNeverLost() throws Exception {
        int cpus = 4;
        try (SimulatedSmp smp = new SimulatedSmp(cpus, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            AtomicBoolean[][] requested = new AtomicBoolean[cpus][REASONS.length];
            for (AtomicBoolean[] row : requested) {
                for (int r = 0; r < REASONS.length; r++) {
                    row[r] = new AtomicBoolean();
                }
            }
            // RESCHEDULE, PANIC and TIMER come back from IpiHandler: takeOwn plays the kernel's handler.
            int posts = 4_000;
            smp.run(new int[] {0, 1, 2, 3}, cpu -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < posts; i++) {
                    int target = random.nextInt(cpus);
                    int r = random.nextInt(REASONS.length);
                    if (REASONS[r] == IpiReason.CALL_FUNCTION || REASONS[r] == IpiReason.TLB_SHOOTDOWN) {
                        // Served inside IpiHandler (with empty request masks): not observable here.
                        continue;
                    }
                    requested[target][r].set(true);
                    IpiMailbox.post(smp.mailbox, target, REASONS[r]);
                    if (random.nextInt(4) == 0) {
                        takeOwn(smp, cpu, requested);
                    }
                }
            }, cpu -> takeOwn(smp, cpu, requested));
            for (int cpu = 0; cpu < cpus; cpu++) {
                assertEquals(0, IpiMailbox.pending(smp.mailbox, cpu), "bit left pending on cpu " + cpu);
                for (int r = 0; r < REASONS.length; r++) {
                    assertTrue(!requested[cpu][r].get(), "reason " + REASONS[r] + " for cpu " + cpu + " was lost");
                }
            }
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
            assertTrue(smp.ipisSent.get() > 0);
        }
    }

    private static void takeOwn(SimulatedSmp smp, int cpu, AtomicBoolean[][] requested) {
        int reasons = smp.poll(cpu);
        for (int r = 0; r < REASONS.length; r++) {
            if ((reasons & REASONS[r]) != 0) {
                requested[cpu][r].set(false);
            }
        }
    }
}
