package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Hardware breakpoints where the lockstep cannot compare with QEMU 7.2 (see lockstep
 * QemuDeviations): a data breakpoint whose DRn is not aligned to its length covers the aligned
 * range (SDM Vol. 3B §17.2.5: the processor "uses LENn field bits to mask the lower address bits");
 * breakpoints match linear addresses, CS base included (§17.2.4); MOV SS holds its data breakpoint
 * to the boundary after the next instruction (Vol. 3A §6.8.3); here in real mode with CS based
 * at 0x1000, all through {@link X86Cpu#run}, the path a VMM takes, rather than single steps.
 */
class DebugRegistersTest {
    final TestMachine m = new TestMachine(1 << 20);
    final X86Cpu cpu = m.cpu(0);

    void code(long at, int... bytes) {
        for (int i = 0; i < bytes.length; i++) m.mem.write(at + i, 1, bytes[i]);
    }

    /** Real mode at 0100:0000 (linear 0x1000), the #DB vector at 0000:2000: MOV EAX, DR6; OUT 0x80, EAX. */
    void realMode() {
        CpuState s = cpu.s;
        s.segSelector[CpuState.CS] = 0x100;
        s.segBase[CpuState.CS] = 0x1000;
        s.rip = 0;
        s.gpr[CpuState.RSP] = 0x8000;
        cpu.stateChanged();
        m.mem.write(4, 4, 0x2000);                       // IVT[1] = 0000:2000
        code(0x2000, 0x0F, 0x21, 0xF0, 0x66, 0xE7, 0x80); // mov eax, dr6; out 0x80, eax
    }

    @Test
    void unalignedDataBreakpointCoversTheAlignedRange() {
        realMode();
        code(0x1000,
                0x66, 0xB8, 0x03, 0x05, 0x00, 0x00,      // mov eax, 0x503
                0x0F, 0x23, 0xC0,                        // mov dr0, eax
                0x66, 0xB8, 0x01, 0x04, 0x05, 0x00,      // mov eax, 0x50401: L0, R/W0 = 01 (write), LEN0 = 01 (2 bytes)
                0x0F, 0x23, 0xF8,                        // mov dr7, eax
                0xA2, 0x04, 0x05,                        // mov [0x504], al: outside 0x502-0x503
                0xA2, 0x02, 0x05,                        // mov [0x502], al: hit (a trap after it)
                0xE6, 0x81);                             // out 0x81, al: reached only without the #DB
        CpuExit e = cpu.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x80, e.port, "the #DB handler's OUT");
        assertEquals(0xFFFF_0FF1L, e.value, "DR6: B0");
        assertEquals(0x18, m.mem.read(0x8000 - 6, 2), "the #DB frame's IP: after the store to 0x502");
        assertEquals(0x100, m.mem.read(0x8000 - 4, 2), "CS");
    }

    @Test
    void movSsHoldsItsDataBreakpointToTheNextBoundary() {
        // SDM Vol. 3A §6.8.3: after MOV SS "the processor inhibits interrupts, debug exceptions, and
        // single-step trap exceptions" until the boundary after the next instruction; QEMU 7.2 does not
        // hold a data breakpoint's #DB (lockstep QemuDeviations), so this is checked here.
        realMode();
        code(0x1000,
                0x66, 0xB8, 0x00, 0x06, 0x00, 0x00,      // mov eax, 0x600
                0x0F, 0x23, 0xC0,                        // mov dr0, eax
                0x66, 0xB8, 0x01, 0x04, 0x07, 0x00,      // mov eax, 0x70401: L0, R/W0 = 11 (read/write), LEN0 = 01
                0x0F, 0x23, 0xF8,                        // mov dr7, eax
                0x8E, 0x16, 0x00, 0x06,                  // mov ss, [0x600]: reads the watched word (0)
                0xB8, 0x34, 0x12,                        // mov ax, 0x1234: runs before the #DB
                0xE6, 0x81);                             // out 0x81, al: reached only without the #DB
        CpuExit e = cpu.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x80, e.port, "the #DB handler's OUT");
        assertEquals(0xFFFF_0FF1L, e.value, "DR6: B0");
        assertEquals(0x19, m.mem.read(0x8000 - 6, 2), "the #DB frame's IP: after the instruction that follows MOV SS");
    }

    @Test
    void instructionBreakpointMatchesTheLinearAddress() {
        realMode();
        code(0x1000,
                0x66, 0xB8, 0x12, 0x10, 0x00, 0x00,      // mov eax, 0x1012: the NOP's linear address (CS base 0x1000 + IP 0x12)
                0x0F, 0x23, 0xC8,                        // mov dr1, eax
                0x66, 0xB8, 0x08, 0x04, 0x00, 0x00,      // mov eax, 0x408: L1, execute
                0x0F, 0x23, 0xF8,                        // mov dr7, eax
                0x90,                                    // nop (IP 0x12): #DB before it
                0xE6, 0x81);                             // out 0x81, al: reached only without the #DB
        CpuExit e = cpu.run();
        assertEquals(CpuExit.Kind.PORT_OUT, e.kind, e::toString);
        assertEquals(0x80, e.port, "the #DB handler's OUT");
        assertEquals(0xFFFF_0FF2L, e.value, "DR6: B1");
        assertEquals(0x12, m.mem.read(0x8000 - 6, 2), "a fault: the frame's IP is the NOP's");
    }
}
