package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.emulated.time.HostClock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The run loop with real decoded code: SIPI start in real mode (SDM Vol. 3 §8.4.4.1), INIT back
 * to wait-for-SIPI, port exits and IN completion, the STI interrupt shadow (§6.8.3), external
 * interrupts through the IVT, and HLT sleeping until the LAPIC timer's deadline.
 */
class RunLoopTest {
    /** A LAPIC stand-in: one pending vector, a timer that makes it pending when due. */
    static final class FakeApic implements InterruptController {
        final HostClock clock;
        final CpuEvents events;
        int pending = -1;
        int acknowledged = -1;
        long deadline = Long.MAX_VALUE;
        int timerVector;
        int resets;

        FakeApic(HostClock clock, CpuEvents events) {
            this.clock = clock;
            this.events = events;
        }

        @Override public int pendingInterrupt() { return pending; }
        @Override public void acknowledge(int vector) { acknowledged = vector; pending = -1; }
        @Override public long nextDeadline() { return deadline; }
        @Override public void tick(long now) {
            if (now >= deadline) {
                deadline = Long.MAX_VALUE;
                pending = timerVector;
                events.post(CpuEvents.INTERRUPT);
            }
        }
        @Override public long mmioRead(long offset, int size) { return 0; }
        @Override public void mmioWrite(long offset, int size, long value) { }
        @Override public boolean mmioEnabled() { return false; }
        @Override public long apicBase() { return 0xFEE0_0000L; }
        @Override public boolean setApicBase(long value) { return false; }
        @Override public Long readMsr(int msr) { return null; }
        @Override public boolean writeMsr(int msr, long value) { return false; }
        @Override public long cr8() { return 0; }
        @Override public void setCr8(long value) { }
        @Override public void reset() { resets++; }
    }

    final TestMachine m = new TestMachine(1 << 20);
    final CpuEvents events = new CpuEvents();
    final FakeApic apic = new FakeApic(m.clock, events);
    final X86Cpu ap = new X86Cpu(1, m.mem, apic, events, m.clock, null);

    void code(long at, int... bytes) {
        for (int i = 0; i < bytes.length; i++) m.mem.write(at + i, 1, bytes[i]);
    }

    void sipi(int vector) {
        events.sipiVector = vector;
        events.post(CpuEvents.SIPI);
    }

    @Test
    void sipiStartsRealModeAtTheVectorPage() {
        assertEquals(CpuState.Activity.WAIT_FOR_SIPI, ap.s.activity, "an AP waits for SIPI after reset");
        code(0x8000, 0xB8, 0x34, 0x12, 0xE7, 0x80, 0xF4); // mov ax, 0x1234; out 0x80, ax; hlt
        sipi(0x08);
        CpuExit e = ap.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x80, e.port);
        assertEquals(2, e.size);
        assertEquals(0x1234, e.value);
        assertEquals(0x0800, ap.s.segSelector[CpuState.CS]);
        assertEquals(0x8000, ap.s.segBase[CpuState.CS]);
        assertEquals(5, ap.s.rip);

        // INIT resets it (and its LAPIC) to wait for SIPI; a second SIPI starts it elsewhere.
        code(0x9000, 0xE4, 0x71, 0xA2, 0x00, 0x05, 0xE6, 0x80, 0xF4); // in al, 0x71; mov [0x500], al; out 0x80, al; hlt
        events.post(CpuEvents.INIT);
        sipi(0x09);
        e = ap.run();
        assertEquals(1, apic.resets);
        assertEquals(CpuExit.Kind.PORT_IN, e.kind, e::toString);
        assertEquals(0x71, e.port);
        assertEquals(0x0900, ap.s.segSelector[CpuState.CS]);
        ap.completeIn(0x5A);
        e = ap.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x5A, e.value);
        assertEquals(0x5A, m.mem.read(0x500, 1));
    }

    @Test
    void stiShadowThenInterruptThroughIvtAndIret() {
        // IVT[0x40] = 0000:7000: out 0x81, al; iret
        m.mem.write(0x40 * 4, 4, 0x7000);
        code(0x7000, 0xE6, 0x81, 0xCF);
        // sti; out 0x80, al; out 0x82, al; hlt
        code(0x8000, 0xFB, 0xE6, 0x80, 0xE6, 0x82, 0xF4);
        sipi(0x08);
        ap.s.gpr[CpuState.RSP] = 0x6000;
        apic.pending = 0x40;
        CpuExit e = ap.run();
        assertEquals(0x80, e.port, "the instruction after STI runs before the interrupt");
        e = ap.run();
        assertEquals(0x81, e.port, "then the interrupt is taken");
        assertEquals(0x40, apic.acknowledged);
        e = ap.run();
        assertEquals(0x82, e.port, "IRET returns after the interrupted instruction");
        assertEquals(0x6000, ap.s.gpr[CpuState.RSP]);
    }

    /**
     * An interrupt made pending by another thread (a LAPIC does so for another vCPU's IPI or its
     * timer) while the vCPU runs a busy loop in {@link X86Cpu#run} — decoded and, once hot,
     * translated blocks, no HLT — is taken between two of the loop's instructions (SDM Vol. 3A
     * §6.8.1: maskable interrupts are recognised at instruction boundaries when IF = 1). A kick
     * after 30 s keeps a broken CPU from hanging the test: run() then returns KICKED, not the port.
     */
    @Test
    void anInterruptFromAnotherThreadStopsABusyLoop() throws Exception {
        m.mem.write(0x42 * 4, 4, 0x7000);
        code(0x7000, 0xE6, 0x81, 0xF4);                   // out 0x81, al; hlt
        code(0x8000, 0xFB, 0x41, 0xEB, 0xFD);             // sti; l: inc cx; jmp l
        sipi(0x08);
        ap.s.gpr[CpuState.RSP] = 0x6000;
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(50);                          // let the loop run (and get hot) first
                apic.pending = 0x42;
                events.post(CpuEvents.INTERRUPT);
                Thread.sleep(30_000);
                events.post(CpuEvents.KICK);
            } catch (InterruptedException e) {
                // the test is over
            }
        });
        try {
            CpuExit e = ap.run();
            assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
            assertEquals(0x81, e.port, "the interrupt ended the busy loop");
            assertEquals(0x42, apic.acknowledged);
            long ip = m.mem.read(0x5FFA, 2);
            org.junit.jupiter.api.Assertions.assertTrue(ip == 1 || ip == 2, "the frame's IP is in the loop: " + ip);
            org.junit.jupiter.api.Assertions.assertTrue((ap.s.gpr[CpuState.RCX] & 0xFFFF) != 0, "the loop ran");
        } finally {
            sender.interrupt();
            sender.join();
        }
    }

    @Test
    void haltSleepsUntilTheTimerFires() {
        m.mem.write(0x41 * 4, 4, 0x7000);
        code(0x7000, 0xE6, 0x81, 0xCF);
        code(0x8000, 0xFB, 0x90, 0xF4, 0xE6, 0x83, 0xF4); // sti; nop; hlt; out 0x83, al; hlt
        sipi(0x08);
        ap.s.gpr[CpuState.RSP] = 0x6000;
        apic.timerVector = 0x41;
        apic.deadline = m.clock.nanos() + 20_000_000L;
        CpuExit e = ap.run();
        assertEquals(0x81, e.port, "woken by the timer interrupt");
        assertEquals(0x41, apic.acknowledged);
        e = ap.run();
        assertEquals(0x83, e.port);
    }

    @Test
    void stringIoIsOneElementPerExit() {
        m.mem.write(0x600, 4, 0x44434241L); // "ABCD"
        // mov si, 0x600; mov di, 0x700; mov cx, 3; mov dx, 0x3f8; rep outsb; mov cx, 2; rep insb; out 0x80, al
        code(0x8000, 0xBE, 0x00, 0x06, 0xBF, 0x00, 0x07, 0xB9, 0x03, 0x00, 0xBA, 0xF8, 0x03, 0xF3, 0x6E,
                0xB9, 0x02, 0x00, 0xF3, 0x6C, 0xE6, 0x80);
        sipi(0x08);
        StringBuilder out = new StringBuilder();
        CpuExit e;
        while ((e = ap.run()).kind == CpuExit.Kind.PORT_OUT && e.port == 0x3F8) {
            out.append((char) e.value);
        }
        assertEquals("ABC", out.toString());
        assertEquals(0x603, ap.s.gpr[CpuState.RSI] & 0xFFFF);
        assertEquals(CpuExit.Kind.PORT_IN, e.kind, e::toString);
        assertEquals(0x3F8, e.port);
        ap.completeIn('x');
        e = ap.run();
        assertEquals(CpuExit.Kind.PORT_IN, e.kind, e::toString);
        assertEquals(1, ap.s.gpr[CpuState.RCX] & 0xFFFF, "one element done");
        ap.completeIn('y');
        e = ap.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x80, e.port);
        assertEquals(0x7978, m.mem.read(0x700, 2), "both elements stored in order");
        assertEquals(0x702, ap.s.gpr[CpuState.RDI] & 0xFFFF);
        assertEquals(0, ap.s.gpr[CpuState.RCX] & 0xFFFF);
    }

    @Test
    void trapFlagSingleStepsThroughDebugTrap() {
        // IVT[1] = 0000:7000: out 0x81, al; iret. Code: pushf; pop ax; or ah, 1; push ax; popf; nop; inc bx; out 0x80, al
        m.mem.write(1 * 4, 4, 0x7000);
        code(0x7000, 0xE6, 0x81, 0xCF);
        code(0x8000, 0x9C, 0x58, 0x80, 0xCC, 0x01, 0x50, 0x9D, 0x90, 0x43, 0xE6, 0x80);
        sipi(0x08);
        ap.s.gpr[CpuState.RSP] = 0x6000;
        CpuExit e = ap.run();
        assertEquals(0x81, e.port, "the instruction after the POPF that set TF traps");
        assertEquals(0x5FFA, ap.s.gpr[CpuState.RSP] & 0xFFFF);
        assertEquals(8, m.mem.read(0x5FFA, 2), "return IP after the NOP (a trap)");
        assertEquals(1L << 14, ap.s.dr[6] & (1L << 14), "DR6.BS");
        assertEquals(0, ap.rflags() & Rflags.TF, "the handler runs with TF clear");
        e = ap.run();
        assertEquals(0x81, e.port, "after IRET the INC BX traps too");
        assertEquals(1, ap.s.gpr[CpuState.RBX] & 0xFFFF);
    }

    @Test
    void nmiIsBlockedUntilIret() {
        // IVT[2] = 0000:7000: out 0x81, al; iret
        m.mem.write(2 * 4, 4, 0x7000);
        code(0x7000, 0xE6, 0x81, 0xCF);
        code(0x8000, 0xFA, 0xE6, 0x80, 0xF4); // cli; out 0x80, al; hlt
        sipi(0x08);
        ap.s.gpr[CpuState.RSP] = 0x6000;
        events.post(CpuEvents.NMI);
        CpuExit e = ap.run();
        assertEquals(0x81, e.port, "NMI taken although IF = 0");
        assertEquals(0x6000 - 6, ap.s.gpr[CpuState.RSP]);
        events.post(CpuEvents.NMI); // arrives inside the handler: held until its IRET
        e = ap.run();
        assertEquals(0x81, e.port);
        assertEquals(0x6000 - 6, ap.s.gpr[CpuState.RSP], "delivered after the IRET, not nested");
        e = ap.run();
        assertEquals(0x80, e.port);
        assertEquals(0x6000, ap.s.gpr[CpuState.RSP]);
    }

    @Test
    void kickReturnsAndTripleFaultIsShutdown() {
        events.post(CpuEvents.KICK);
        assertEquals(CpuExit.Kind.KICKED, ap.run().kind);
        // Real mode with an IDT limit of 0: INT3 cannot be delivered -> #GP -> #DF -> shutdown.
        code(0x8000, 0xCC);
        sipi(0x08);
        ap.s.idtLimit = 0;
        CpuExit e = ap.run();
        assertEquals(CpuExit.Kind.SHUTDOWN, e.kind, e::toString);
        assertEquals(CpuExit.Kind.SHUTDOWN, ap.run().kind, "stays shut down");
    }
}
