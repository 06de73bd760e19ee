package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * vCPU threads that IPI each other, take and EOI interrupts, and share a level-triggered I/O APIC
 * line all at once: nothing deadlocks (every thread finishes) and every CPU ends with nothing in
 * service (no EOI lost).
 */
class ApicConcurrencyTest {
    private static final int CPUS = 4;
    private static final int ROUNDS = 20_000;

    @Test
    void ipiStormWithEoiBroadcastsDoesNotDeadlock() throws InterruptedException {
        ApicBus bus = new ApicBus(new FakeClock());
        IoApic ioapic = new IoApic(IoApic.DEFAULT_BASE, bus);
        bus.onEoi(ioapic::eoi);
        LocalApic[] apics = new LocalApic[CPUS];
        for (int i = 0; i < CPUS; i++) {
            apics[i] = bus.add(i, i == 0, new CpuEvents());
            apics[i].mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
            apics[i].mmioWrite(LocalApic.REG_LDR, 4, (1L << i) << 24);
        }
        // Pin 9: level, lowest priority to every CPU, vector 0x90.
        ioapic.write(IoApic.DEFAULT_BASE, 4, 0x10 + 2 * 9 + 1);
        ioapic.write(IoApic.DEFAULT_BASE + 0x10, 4, 0x0FL << 24);
        ioapic.write(IoApic.DEFAULT_BASE, 4, 0x10 + 2 * 9);
        ioapic.write(IoApic.DEFAULT_BASE + 0x10, 4, (1 << 15) | (1 << 11) | (1 << 8) | 0x90);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < CPUS; i++) {
            LocalApic me = apics[i];
            int index = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int r = 0; r < ROUNDS; r++) {
                        me.mmioWrite(LocalApic.REG_ICR_LOW, 4, (ApicMessage.ALL_EXCLUDING_SELF << 18) | 0x40 | (index << 4));
                        if (index == 0) ioapic.setLevel(9, (r & 1) == 0);
                        int v;
                        while ((v = me.pendingInterrupt()) >= 0) {
                            me.acknowledge(v);
                            // The handler of the level interrupt quiets its device before the EOI,
                            // as a driver does; otherwise the EOI re-delivers it at once.
                            if (v == 0x90) ioapic.setLevel(9, false);
                            me.mmioWrite(LocalApic.REG_EOI, 4, 0);
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : threads) t.join(TimeUnit.MINUTES.toMillis(2));
        for (Thread t : threads) assertTrue(!t.isAlive(), "a vCPU thread is stuck: deadlock");
        assertEquals(List.of(), List.copyOf(failures));
        for (int i = 0; i < CPUS; i++) {
            assertEquals(0, apics[i].processorPriority() & 0xF0, "CPU " + i + " left nothing in service");
        }
    }
}
