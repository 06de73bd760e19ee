package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Cpu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The TLB flushes leave the control registers as they found them: toggling CR4.PGE must set it
 * again (global pages would otherwise stop being global), and a CR3 reload keeps the address
 * space (Intel SDM Vol. 3A 4.10.4.1). On the host the registers are simulated and there is no
 * TLB, so only the registers' final values can be checked, not the flush itself.
 */
class TlbInstructionsTest {
    private final long cr3 = Cpu.readCr3();
    private final long cr4 = Cpu.readCr4();

    @AfterEach
    void restore() {
        Cpu.writeCr3(cr3);
        Cpu.writeCr4(cr4);
    }

    @Test
    void flushesKeepCr3AndCr4() {
        Cpu.writeCr3(0x1234_5000L);
        Cpu.writeCr4(0x6A0L | TlbInstructions.CR4_PGE);
        TlbInstructions.flushAll();
        assertEquals(0x6A0L | TlbInstructions.CR4_PGE, Cpu.readCr4(), "PGE is set again after the toggle");
        assertEquals(0x1234_5000L, Cpu.readCr3());
        Cpu.writeCr4(0x6A0L);
        TlbInstructions.flushAll();
        assertEquals(0x6A0L, Cpu.readCr4(), "without PGE, CR4 is left alone");
        TlbInstructions.flushAddressSpace();
        assertEquals(0x1234_5000L, Cpu.readCr3());
        TlbInstructions.invalidatePage(0x7000L);
        assertEquals(0x1234_5000L, Cpu.readCr3());
    }
}
