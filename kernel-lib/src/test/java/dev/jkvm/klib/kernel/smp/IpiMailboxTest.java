package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpiMailboxTest {
    @Test
    void sendsEachReasonOnItsVectorOnlyWhenNoneIsAlreadyDue() {
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            sent.add(args[0] + "@" + Long.toHexString(args[1]));
            return 0;
        });
        try (Arena arena = HostArena.ofConfined()) {
            long mailbox = arena.allocate(IpiMailbox.bytesFor(4), 64).address();
            IpiMailbox.init(mailbox, 4, 0xF3);
            IpiMailbox.post(mailbox, 2, IpiReason.RESCHEDULE);
            IpiMailbox.post(mailbox, 2, IpiReason.TIMER);
            IpiMailbox.post(mailbox, 2, IpiReason.RESCHEDULE);
            IpiMailbox.post(mailbox, 1, IpiReason.RESCHEDULE);
            assertEquals(List.of("2@f3", "2@f7", "1@f3"), sent);
            assertEquals(IpiReason.RESCHEDULE | IpiReason.TIMER, IpiMailbox.takeReasons(mailbox, 2, IpiReason.ALL));
            assertEquals(0, IpiMailbox.pending(mailbox, 2));
            assertEquals(0, IpiMailbox.takeReasons(mailbox, 3, IpiReason.ALL));
            IpiMailbox.post(mailbox, 2, IpiReason.PANIC);
            assertEquals(List.of("2@f3", "2@f7", "1@f3", "2@f6"), sent);
            assertEquals(IpiReason.RESCHEDULE, IpiMailbox.pending(mailbox, 1));
        }
    }

    @Test
    void aPingSetsThePingBitOnceAndLeavesTheOtherReasons() {
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            sent.add(args[0] + "@" + Long.toHexString(args[1]));
            return 0;
        });
        Asm.hostDefine(IpiSend.ALL_OTHERS_SYMBOL, args -> {
            sent.add("others@" + Long.toHexString(args[0]));
            return 0;
        });
        try (Arena arena = HostArena.ofConfined()) {
            long mailbox = arena.allocate(IpiMailbox.bytesFor(4), 64).address();
            IpiMailbox.init(mailbox, 4, 0xF3);
            IpiMailbox.post(mailbox, 1, IpiReason.TIMER);
            IpiMailbox.ping(mailbox, 1);
            assertEquals(IpiReason.TIMER | IpiReason.PING, IpiMailbox.pending(mailbox, 1), "the handler must find PING due");
            IpiMailbox.ping(mailbox, 1);
            assertEquals(IpiReason.TIMER | IpiReason.PING, IpiMailbox.pending(mailbox, 1));
            assertEquals(List.of("1@f7", "1@f8", "1@f8"), sent, "every ping is an IPI of its own");
            assertEquals(IpiReason.PING, IpiMailbox.takeReasons(mailbox, 1, IpiReason.PING));
            assertEquals(2, IpiMailbox.takePings(mailbox, 1));
            assertEquals(IpiReason.TIMER, IpiMailbox.pending(mailbox, 1));
            IpiMailbox.pingAllOthers(mailbox, 0);
            for (int cpu = 1; cpu < 4; cpu++) {
                assertEquals(IpiReason.PING, IpiMailbox.pending(mailbox, cpu) & IpiReason.PING, "cpu " + cpu);
            }
            assertEquals(0, IpiMailbox.pending(mailbox, 0), "not the sender");
            assertEquals("others@f8", sent.getLast(), "one broadcast");
        }
    }

    @Test
    void postManySkipsTheSenderAndCpusBeyondTheCount() {
        List<Long> sent = Collections.synchronizedList(new ArrayList<>());
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            sent.add(args[0]);
            return 0;
        });
        try (Arena arena = HostArena.ofConfined()) {
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
     * Every CPU posts random reasons to random CPUs while taking its own IPIs. Each post that
     * found its bit clear made one bit pending, and each pending bit must come out of exactly one
     * take: counted over the whole run, bits made pending and bits taken must agree. An IPI (on
     * the reason's own vector) must be sent exactly for the posts that found their bit clear.
     */
    @Test
    void everyPendingBitIsTakenExactlyOnce() throws Exception {
        int cpus = 4;
        try (SimulatedSmp smp = new SimulatedSmp(cpus, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD)) {
            int[] reasons = {IpiReason.RESCHEDULE, IpiReason.PANIC, IpiReason.TIMER};
            AtomicLong madePending = new AtomicLong();
            AtomicLong taken = new AtomicLong();
            // RESCHEDULE, PANIC and TIMER come back from MailboxHandler: takeOwn plays the kernel's handler.
            IntConsumer takeOwn = cpu -> taken.addAndGet(Integer.bitCount(smp.poll(cpu)));
            smp.run(new int[] {0, 1, 2, 3}, cpu -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 20_000; i++) {
                    int reason = reasons[random.nextInt(reasons.length)];
                    int before = IpiMailbox.post(smp.mailbox, random.nextInt(cpus), reason);
                    if ((before & reason) == 0) {
                        madePending.incrementAndGet();
                    }
                    if (random.nextInt(4) == 0) {
                        takeOwn.accept(cpu);
                    }
                }
            }, takeOwn);
            for (int cpu = 0; cpu < cpus; cpu++) {
                assertEquals(0, IpiMailbox.pending(smp.mailbox, cpu), "bit left pending on cpu " + cpu);
            }
            assertEquals(madePending.get(), taken.get(), "bits made pending vs bits taken");
            assertEquals(madePending.get(), smp.ipisSent.get(), "IPIs sent vs posts that found their bit clear");
            assertTrue(smp.violations.isEmpty(), smp.violations.toString());
        }
    }
}
