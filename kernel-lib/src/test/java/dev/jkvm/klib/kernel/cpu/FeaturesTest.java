package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Msr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Features.detect against the simulated CPUID, one bit at a time (Intel SDM Vol. 2A CPUID: leaf 1
 * ECX 17 PCID, 21 x2APIC, 24 TSC-deadline, EDX 13 PGE; leaf 7 EBX 7 SMEP, 20 SMAP, ECX 2 UMIP, read
 * only when leaf 0 reports 7 or more; 0x80000001 EDX 20 NX, 26 1-GiB pages; 0x80000007 EDX 8
 * invariant TSC, each only when 0x80000000 reports that leaf), and what enableNx and
 * enableProtections switch on in EFER, CR0 and CR4 (SDM Vol. 3A 2.5: CR0.WP bit 16, CR4.UMIP 11,
 * SMEP 20, SMAP 21). Before this test the cpu package's boot-time code had no host test.
 */
class FeaturesTest {
    private static final int[][] LEAVES = {{0, 0}, {1, 0}, {7, 0}, {0x80000000, 0}, {0x80000001, 0}, {0x80000007, 0}};

    private final Map<Integer, Long> savedMsrs = new HashMap<>();
    private long savedCr0;
    private long savedCr4;

    @BeforeEach
    void setUp() {
        savedMsrs.putAll(Msr.hostMsrs());
        savedCr0 = Cpu.readCr0();
        savedCr4 = Cpu.readCr4();
        clearCpuid();
        Console.hostClear();
    }

    @AfterEach
    void tearDown() {
        clearCpuid();
        Msr.hostMsrs().clear();
        Msr.hostMsrs().putAll(savedMsrs);
        Cpu.writeCr0(savedCr0);
        Cpu.writeCr4(savedCr4);
    }

    private static void clearCpuid() {
        for (int[] leaf : LEAVES) {
            Cpu.hostSetCpuid(leaf[0], leaf[1], 0, 0, 0, 0);
        }
    }

    @Test
    void leafOneBits() {
        Cpu.hostSetCpuid(1, 0, 0, 0, 1 << 21, 0);
        assertEquals(Features.X2APIC, Features.detect());
        Cpu.hostSetCpuid(1, 0, 0, 0, 1 << 17, 0);
        assertEquals(Features.PCID, Features.detect());
        Cpu.hostSetCpuid(1, 0, 0, 0, 1 << 24, 0);
        assertEquals(Features.TSC_DEADLINE, Features.detect());
        Cpu.hostSetCpuid(1, 0, 0, 0, 0, 1 << 13);
        assertEquals(Features.PGE, Features.detect());
        Cpu.hostSetCpuid(1, 0, 0, 0, ~(1 << 21 | 1 << 17 | 1 << 24), ~(1 << 13));
        assertEquals(0, Features.detect(), "no other bit of leaf 1 counts");
    }

    @Test
    void leafSevenOnlyWhenLeafZeroReportsIt() {
        Cpu.hostSetCpuid(7, 0, 0, 1 << 7 | 1 << 20, 1 << 2, 0);
        Cpu.hostSetCpuid(0, 0, 6, 0, 0, 0);
        assertEquals(0, Features.detect(), "max leaf 6: leaf 7 is not there");
        Cpu.hostSetCpuid(0, 0, 7, 0, 0, 0);
        assertEquals(Features.SMEP | Features.SMAP | Features.UMIP, Features.detect());
        Cpu.hostSetCpuid(7, 0, 0, 1 << 7, 0, 0);
        assertEquals(Features.SMEP, Features.detect());
        Cpu.hostSetCpuid(7, 0, 0, 1 << 20, 0, 0);
        assertEquals(Features.SMAP, Features.detect());
        Cpu.hostSetCpuid(7, 0, 0, 0, 1 << 2, 0);
        assertEquals(Features.UMIP, Features.detect());
    }

    @Test
    void extendedLeavesOnlyWhenTheMaximumExtendedLeafReachesThem() {
        Cpu.hostSetCpuid(0x80000001, 0, 0, 0, 0, 1 << 20 | 1 << 26);
        Cpu.hostSetCpuid(0x80000007, 0, 0, 0, 0, 1 << 8);
        Cpu.hostSetCpuid(0x80000000, 0, 0x80000000, 0, 0, 0);
        assertEquals(0, Features.detect());
        Cpu.hostSetCpuid(0x80000000, 0, 0x80000001, 0, 0, 0);
        assertEquals(Features.NX | Features.PAGES_1G, Features.detect());
        Cpu.hostSetCpuid(0x80000000, 0, 0x80000006, 0, 0, 0);
        assertEquals(Features.NX | Features.PAGES_1G, Features.detect());
        Cpu.hostSetCpuid(0x80000000, 0, 0x80000007, 0, 0, 0);
        assertEquals(Features.NX | Features.PAGES_1G | Features.INVARIANT_TSC, Features.detect());
        Cpu.hostSetCpuid(0x80000001, 0, 0, 0, 0, 1 << 26);
        assertEquals(Features.PAGES_1G | Features.INVARIANT_TSC, Features.detect());
        Cpu.hostSetCpuid(0x80000001, 0, 0, 0, 0, 1 << 20);
        Cpu.hostSetCpuid(0x80000007, 0, 0, 0, 0, ~(1 << 8));
        assertEquals(Features.NX, Features.detect());
    }

    @Test
    void nxeIsSetOnlyWithNxAndKeepsTheOtherEferBits() {
        Msr.write(Efer.MSR, Efer.LME);
        Features.enableNx(Features.SMEP);
        assertEquals(Efer.LME, Msr.read(Efer.MSR));
        Features.enableNx(Features.NX);
        assertEquals(Efer.LME | Efer.NXE, Msr.read(Efer.MSR));
    }

    @Test
    void protectionsSetTheirControlBitsKeepTheOthersAndReportWhatIsOn() {
        Cpu.writeCr0(1);
        Cpu.writeCr4(1L << 5);
        Msr.write(Efer.MSR, 0);
        assertEquals(0, Features.enableProtections(Features.X2APIC | Features.NX), "NX counts only with EFER.NXE");
        assertEquals(1 | Features.CR0_WP, Cpu.readCr0());
        assertEquals(1L << 5, Cpu.readCr4());

        Msr.write(Efer.MSR, Efer.NXE);
        assertEquals(Features.SMEP | Features.NX, Features.enableProtections(Features.SMEP | Features.NX));
        assertEquals(1L << 5 | Features.CR4_SMEP, Cpu.readCr4());
        Cpu.writeCr4(0);
        assertEquals(Features.SMAP, Features.enableProtections(Features.SMAP));
        assertEquals(Features.CR4_SMAP, Cpu.readCr4());
        Cpu.writeCr4(0);
        assertEquals(Features.UMIP, Features.enableProtections(Features.UMIP));
        assertEquals(Features.CR4_UMIP, Cpu.readCr4());
    }

    @Test
    void printNamesEachFeature() {
        Features.print(0);
        assertEquals(" (none)", Console.hostOutput());
        Console.hostClear();
        Features.print(-1);
        assertEquals(" nx smep smap umip x2apic pge 1g-pages pcid invariant-tsc tsc-deadline", Console.hostOutput());
        Console.hostClear();
        Features.print(Features.PGE);
        assertEquals(" pge", Console.hostOutput());
    }
}
