package dev.jkvm.vmm.emulated.irq;

import static dev.jkvm.vmm.emulated.irq.LocalApic.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One LAPIC: priorities, EOI, ESR, SVR, the timer modes on a fake clock, x2APIC MSRs. */
class LocalApicTest {
    private final FakeClock clock = new FakeClock();
    private final ApicBus bus = new ApicBus(clock);
    private final CpuEvents events = new CpuEvents();
    private final LocalApic apic = bus.add(0, true, events);

    private void write(int reg, int value) { apic.mmioWrite(reg, 4, value & 0xFFFF_FFFFL); }

    private int read(int reg) { return (int) apic.mmioRead(reg, 4); }

    private void enable() { write(REG_SVR, 0x1FF); }

    /** A fixed, edge self-IPI through the ICR (the way a guest raises a vector on itself). */
    private void selfIpi(int vector) { write(REG_ICR_LOW, (ApicMessage.SELF << 18) | vector); }

    /** What the CPU does: take the pending interrupt and acknowledge it. */
    private int take() {
        int v = apic.pendingInterrupt();
        if (v >= 0) apic.acknowledge(v);
        return v;
    }

    @Test
    void versionAndIdAreKvms() {
        assertEquals(0x50014, read(REG_VERSION));
        assertEquals(0, read(REG_ID));
        assertEquals(DEFAULT_BASE | BASE_EN | BASE_BSP, apic.apicBase());
        assertEquals(0xFF, read(REG_SVR));
        assertEquals(0xFFFF_FFFF, read(REG_DFR));
        assertEquals(LVT_MASKED, read(REG_LVT_TIMER));
        assertEquals(0x700, read(REG_LVT_LINT0), "the BSP's LINT0 is ExtINT out of reset (KVM quirk)");
    }

    @Test
    void highestVectorAbovePprIsDeliveredAndEoiUnblocksTheNext() {
        enable();
        selfIpi(0x31);
        selfIpi(0x52);
        selfIpi(0x45);
        assertEquals(CpuEvents.INTERRUPT, events.take(CpuEvents.INTERRUPT));
        assertEquals(0x52, take());
        assertEquals(0x50, read(REG_PPR));
        assertTrue(apic.inIsr(0x52));
        assertEquals(-1, apic.pendingInterrupt(), "0x45 is in a lower class than the in-service 0x52");
        selfIpi(0x57);
        assertEquals(-1, apic.pendingInterrupt(), "same class as in service: blocked");
        write(REG_EOI, 0);
        assertFalse(apic.inIsr(0x52));
        assertEquals(0x57, take());
        write(REG_EOI, 0);
        write(REG_TPR, 0x45);
        assertEquals(0x45, read(REG_PPR));
        assertEquals(-1, apic.pendingInterrupt(), "TPR class 4 blocks 0x45");
        events.take(-1);
        write(REG_TPR, 0x30);
        assertEquals(CpuEvents.INTERRUPT, events.take(CpuEvents.INTERRUPT), "lowering TPR wakes the CPU");
        assertEquals(0x45, take());
        write(REG_EOI, 0);
        assertEquals(-1, apic.pendingInterrupt(), "0x31 is at TPR's class 3");
        apic.setCr8(0);
        assertEquals(0, apic.cr8());
        assertEquals(0x31, take());
    }

    @Test
    void nestedInterruptsEoiTheHighestInService() {
        enable();
        selfIpi(0x40);
        assertEquals(0x40, take());
        selfIpi(0x80);
        assertEquals(0x80, take());
        assertEquals(0x80, read(REG_PPR));
        write(REG_EOI, 0);
        assertTrue(apic.inIsr(0x40));
        assertFalse(apic.inIsr(0x80));
        assertEquals(0x40, read(REG_PPR));
    }

    @Test
    void levelTriggeredEoiIsBroadcastToTheIoApic() {
        List<Integer> eois = new ArrayList<>();
        bus.onEoi(eois::add);
        enable();
        bus.deliver(0, false, ApicMessage.FIXED, 0x61, true);
        assertTrue(apic.inTmr(0x61));
        selfIpi(0x30);
        assertEquals(0x61, take());
        write(REG_EOI, 0);
        assertEquals(List.of(0x61), eois);
        assertEquals(0x30, take());
        write(REG_EOI, 0);
        assertEquals(List.of(0x61), eois, "edge-triggered EOIs are not broadcast");
    }

    @Test
    void esrLatchesOnWriteAndIllegalVectorsAreErrors() {
        enable();
        selfIpi(5);
        assertEquals(0, read(REG_ESR), "ESR shows errors only after a write latches them");
        write(REG_ESR, 0);
        assertEquals(ESR_SEND_ILLEGAL_VECTOR, read(REG_ESR));
        write(REG_ESR, 0);
        assertEquals(0, read(REG_ESR));
        bus.deliver(0, false, ApicMessage.FIXED, 7, false);
        write(REG_ESR, 0);
        assertEquals(ESR_RECEIVE_ILLEGAL_VECTOR, read(REG_ESR));
    }

    @Test
    void errorLvtRaisesItsVector() {
        enable();
        write(REG_LVT_ERROR, 0xE0);
        selfIpi(3);
        assertEquals(0xE0, take());
    }

    @Test
    void softwareDisabledApicMasksLvtsDropsFixedButTakesNmiAndInit() {
        enable();
        write(REG_LVT_LINT1, 0x400);
        write(REG_LVT_TIMER, 0x20);
        write(REG_SVR, 0xFF);
        assertEquals(LVT_MASKED | 0x20, read(REG_LVT_TIMER));
        assertEquals(LVT_MASKED | 0x400, read(REG_LVT_LINT1));
        write(REG_LVT_TIMER, 0x21);
        assertEquals(LVT_MASKED | 0x21, read(REG_LVT_TIMER), "mask stays set while software-disabled");
        bus.deliver(0, false, ApicMessage.FIXED, 0x40, false);
        assertFalse(apic.inIrr(0x40));
        events.take(-1);
        bus.deliver(0, false, ApicMessage.NMI, 0, false);
        bus.deliver(0, false, ApicMessage.INIT, 0, false);
        assertEquals(CpuEvents.NMI | CpuEvents.INIT, events.take(CpuEvents.NMI | CpuEvents.INIT));
    }

    @Test
    void oneShotTimerCountsDownAtBusClockOverDivisor() {
        enable();
        clock.set(1_000);
        write(REG_TIMER_DIVIDE, 3);  // divide by 16
        write(REG_LVT_TIMER, 0xEF);
        write(REG_TIMER_INITIAL, 1000);
        assertEquals(1000, read(REG_TIMER_INITIAL));
        assertEquals(1_000 + 16_000, apic.nextDeadline());
        clock.set(1_000 + 1_600);
        assertEquals(900, read(REG_TIMER_CURRENT));
        apic.tick(16_999);
        assertFalse(apic.inIrr(0xEF));
        apic.tick(17_000);
        assertTrue(apic.inIrr(0xEF));
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        clock.set(50_000);
        assertEquals(0, read(REG_TIMER_CURRENT));
        assertEquals(0xEF, take());
    }

    @Test
    void divideByOneAndTwo() {
        enable();
        write(REG_LVT_TIMER, 0x30);
        write(REG_TIMER_DIVIDE, 0xB);  // 1011b: divide by 1
        write(REG_TIMER_INITIAL, 500);
        assertEquals(500, apic.nextDeadline());
        write(REG_TIMER_DIVIDE, 0);    // divide by 2: the count continues at the new rate
        assertEquals(1000, apic.nextDeadline());
    }

    @Test
    void periodicTimerReloadsAndStaysOnItsGrid() {
        enable();
        write(REG_TIMER_DIVIDE, 0);  // divide by 2
        write(REG_LVT_TIMER, (TIMER_PERIODIC << 17) | 0x40);
        write(REG_TIMER_INITIAL, 100_000);  // 200 µs period
        assertEquals(200_000, apic.nextDeadline());
        clock.set(450_000);
        assertEquals(100_000 - 25_000, read(REG_TIMER_CURRENT));
        apic.tick(450_000);
        assertTrue(apic.inIrr(0x40));
        assertEquals(600_000, apic.nextDeadline(), "late tick fires once and re-arms on the period grid");
        assertEquals(0x40, take());
        write(REG_EOI, 0);
        apic.tick(600_000);
        assertTrue(apic.inIrr(0x40));
        write(REG_TIMER_INITIAL, 0);
        assertEquals(Long.MAX_VALUE, apic.nextDeadline(), "initial count 0 stops the timer");
    }

    @Test
    void maskedTimerExpiresWithoutInterrupt() {
        enable();
        write(REG_LVT_TIMER, LVT_MASKED | 0x40);
        write(REG_TIMER_INITIAL, 10);
        apic.tick(1_000);
        assertFalse(apic.inIrr(0x40));
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
    }

    @Test
    void tscDeadlineTimer() {
        enable();
        assertTrue(apic.writeMsr(MSR_TSC_DEADLINE, 4000));
        assertEquals(0L, apic.readMsr(MSR_TSC_DEADLINE), "ignored outside TSC-deadline mode");
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        write(REG_LVT_TIMER, (TIMER_TSC_DEADLINE << 17) | 0x50);
        write(REG_TIMER_INITIAL, 1000);
        assertEquals(0, read(REG_TIMER_INITIAL), "initial count is ignored in TSC-deadline mode");
        assertTrue(apic.writeMsr(MSR_TSC_DEADLINE, 4000));  // 2 GHz: 2 µs
        assertEquals(4000L, apic.readMsr(MSR_TSC_DEADLINE));
        assertEquals(2_000, apic.nextDeadline());
        apic.tick(1_999);
        assertFalse(apic.inIrr(0x50));
        apic.tick(2_000);
        assertTrue(apic.inIrr(0x50));
        assertEquals(0L, apic.readMsr(MSR_TSC_DEADLINE), "the deadline clears when it fires");
        clock.set(10_000);
        apic.writeMsr(MSR_TSC_DEADLINE, 1);  // in the past: fires at once
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        apic.writeMsr(MSR_TSC_DEADLINE, 100_000);
        write(REG_LVT_TIMER, 0x50);  // leaving TSC-deadline mode disarms
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
    }

    @Test
    void x2apicModeSwitchAndMsrs() {
        LocalApic ap = bus.add(0x23, false, new CpuEvents());
        assertNull(ap.readMsr(0x802), "x2APIC MSRs #GP in xAPIC mode");
        assertFalse(ap.setApicBase(DEFAULT_BASE | BASE_EXTD), "EXTD without EN is invalid");
        assertTrue(ap.setApicBase(DEFAULT_BASE | BASE_EN | BASE_EXTD));
        assertFalse(ap.mmioEnabled());
        assertEquals(0x23L, ap.readMsr(0x802));
        assertEquals((2L << 16) | (1 << 3), ap.readMsr(0x80D), "LDR derived from the x2APIC ID (SDM 10.12.10.2)");
        assertFalse(ap.writeMsr(0x802, 5), "ID is read-only");
        assertFalse(ap.writeMsr(0x80D, 5), "LDR is read-only");
        assertNull(ap.readMsr(0x80E), "no DFR in x2APIC mode");
        assertNull(ap.readMsr(0x831), "no ICR high in x2APIC mode");
        assertNull(ap.readMsr(0x80B), "EOI is write-only");
        assertFalse(ap.writeMsr(0x828, 1), "ESR writes must be 0");
        assertFalse(ap.setApicBase(DEFAULT_BASE | BASE_EN), "x2APIC -> xAPIC directly is invalid");
        assertFalse(ap.setApicBase(DEFAULT_BASE | BASE_EN | BASE_EXTD | 1), "reserved bit");
        assertTrue(ap.writeMsr(0x80F, 0x1FF));
        assertTrue(ap.writeMsr(0x83F, 0x66));  // SELF IPI
        assertTrue(ap.inIrr(0x66));
        assertFalse(ap.writeMsr(0x83F, 0x166));
        assertTrue(ap.writeMsr(0x830, (0x23L << 32) | 0x67));
        assertTrue(ap.inIrr(0x67));
        assertEquals((0x23L << 32) | 0x67, ap.readMsr(0x830));
        assertFalse(ap.writeMsr(0x830, 1L << 13), "x2APIC ICR reserved bit");
        assertFalse(ap.writeMsr(0x808, 1L << 32), "bits 63:32 are reserved");
        assertTrue(ap.setApicBase(DEFAULT_BASE));
        assertFalse(ap.setApicBase(DEFAULT_BASE | BASE_EN | BASE_EXTD), "disabled -> x2APIC directly is invalid");
        assertTrue(ap.setApicBase(DEFAULT_BASE | BASE_EN));
        assertEquals(0x23 << 24, (int) ap.mmioRead(REG_ID, 4));
        assertEquals(0xFF, (int) ap.mmioRead(REG_SVR, 4), "re-enabled as after power-up");
    }

    @Test
    void bspBitIsReadOnlyAndBaseRelocates() {
        assertTrue(apic.setApicBase(0xFED0_0000L | BASE_EN));
        assertEquals(0xFED0_0000L | BASE_EN | BASE_BSP, apic.apicBase());
    }

    @Test
    void byteReadsWithinARegisterAndStraddlingOnesRead0() {
        write(REG_TPR, 0xA5);
        assertEquals(0xA5, apic.mmioRead(REG_TPR, 1));
        assertEquals(0x14, apic.mmioRead(REG_VERSION, 1));
        assertEquals(0x05, apic.mmioRead(REG_VERSION + 2, 1));
        assertEquals(0, apic.mmioRead(REG_VERSION + 2, 4));
    }

    @Test
    void initResetKeepsIdAndBase() {
        write(REG_ID, 7 << 24);
        enable();
        write(REG_TPR, 0x20);
        selfIpi(0x40);
        apic.reset();
        assertEquals(7 << 24, read(REG_ID));
        assertEquals(0, read(REG_TPR));
        assertFalse(apic.inIrr(0x40));
        assertEquals(0xFF, read(REG_SVR));
    }

    @Test
    void extIntFromThe8259ThroughLint0() {
        int[] acks = new int[1];
        boolean[] line = {false};
        apic.connectExtInt(new ExtIntSource() {
            @Override public boolean hasInterrupt() { return line[0]; }
            @Override public int peekVector() { return line[0] ? 0x20 : -1; }
            @Override public int acknowledge() { acks[0]++; line[0] = false; return 0x20; }
        });
        assertEquals(-1, apic.pendingInterrupt());
        line[0] = true;
        apic.extIntChanged();
        assertEquals(CpuEvents.INTERRUPT, events.take(CpuEvents.INTERRUPT));
        assertEquals(0x20, take());
        assertEquals(1, acks[0]);
        assertFalse(apic.inIsr(0x20), "an ExtINT vector never enters the LAPIC's ISR");
        line[0] = true;
        write(REG_LVT_LINT0, LVT_MASKED | 0x700);
        assertEquals(-1, apic.pendingInterrupt(), "masked LINT0 hides the 8259");
    }
}
