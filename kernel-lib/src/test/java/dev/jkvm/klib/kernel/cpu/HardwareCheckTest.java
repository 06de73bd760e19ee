package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the kernel refuses to run without: a local APIC (CPUID 1 EDX bit 9), SYSCALL (CPUID
 * 0x80000001 EDX bit 11, only when 0x80000000 reports that leaf) and, for test=xdata, NX; each
 * missing one is its own line.
 */
class HardwareCheckTest {
    @BeforeEach
    void setUp() {
        clear();
        Console.hostClear();
    }

    @AfterEach
    void clear() {
        Cpu.hostSetCpuid(1, 0, 0, 0, 0, 0);
        Cpu.hostSetCpuid(0x80000000, 0, 0, 0, 0, 0);
        Cpu.hostSetCpuid(0x80000001, 0, 0, 0, 0, 0);
    }

    private static void cpu(boolean apic, int maxExtended, boolean syscall) {
        Cpu.hostSetCpuid(1, 0, 0, 0, 0, apic ? 1 << 9 : ~(1 << 9));
        Cpu.hostSetCpuid(0x80000000, 0, maxExtended, 0, 0, 0);
        Cpu.hostSetCpuid(0x80000001, 0, 0, 0, 0, syscall ? 1 << 11 : ~(1 << 11));
    }

    @Test
    void everythingPresent() {
        cpu(true, 0x80000001, true);
        assertTrue(HardwareCheck.hasLocalApic());
        assertTrue(HardwareCheck.hasSyscall());
        assertTrue(HardwareCheck.requiredPresent(Features.NX, true));
        assertTrue(HardwareCheck.requiredPresent(0, false));
        assertEquals("", Console.hostOutput());
        cpu(true, 0x80000008, true);
        assertTrue(HardwareCheck.hasSyscall(), "a maximum above 0x80000001 (negative as an int)");
    }

    @Test
    void eachMissingPieceIsOneLine() {
        cpu(false, 0x80000001, true);
        assertFalse(HardwareCheck.hasLocalApic());
        assertFalse(HardwareCheck.requiredPresent(0, false));
        assertTrue(Console.hostOutput().startsWith("cpu: no local APIC"), Console.hostOutput());
        assertEquals(1, Console.hostOutput().split("\n").length);

        Console.hostClear();
        cpu(true, 0x80000000, true);
        assertFalse(HardwareCheck.hasSyscall(), "leaf 0x80000001 not reported: its bits do not count");
        assertFalse(HardwareCheck.requiredPresent(0, false));
        assertTrue(Console.hostOutput().startsWith("cpu: no SYSCALL/SYSRET"), Console.hostOutput());

        Console.hostClear();
        cpu(true, 0x80000001, false);
        assertFalse(HardwareCheck.hasSyscall());

        Console.hostClear();
        cpu(true, 0x80000001, true);
        assertFalse(HardwareCheck.requiredPresent(Features.SMEP, true));
        assertTrue(Console.hostOutput().startsWith("cpu: no NX"), Console.hostOutput());

        Console.hostClear();
        cpu(false, 0, false);
        assertFalse(HardwareCheck.requiredPresent(0, true));
        assertEquals(3, Console.hostOutput().split("\n").length, Console.hostOutput());
    }
}
