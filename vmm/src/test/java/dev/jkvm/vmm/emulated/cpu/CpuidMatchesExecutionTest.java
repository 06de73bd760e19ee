package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.EmulatedCpuid;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The emulated CPU under the CPUID table the VMM gives it ({@link EmulatedCpuid}) executes what
 * that table advertises and nothing it does not (issue 11 §2: "CPUID ... advertising only what is
 * implemented"): an instruction of each advertised instruction-set feature runs without #UD, and
 * encodings whose meaning depends on a feature take the meaning the table implies — F3 0F BD is
 * LZCNT (CPUID.80000001H:ECX bit 5 set), F3 0F BC is BSF (BMI1 not advertised: the F3 prefix is
 * ignored, SDM Vol. 2B TZCNT). The features not advertised are {@link UnimplementedInstructionsTest}'s.
 */
class CpuidMatchesExecutionTest {
    private static IsaMachine machine() {
        IsaMachine m = new IsaMachine(Decoder.MODE64, null, EmulatedCpuid.source(EmulatedCpuid.table(2_000_000_000L)));
        m.s.cr4 |= 0x600; // OSFXSR | OSXMMEXCPT, as a kernel that uses SSE sets them (SDM Vol. 3A §13.1.3)
        m.s.gpr[CpuState.RSI] = IsaMachine.DATA;
        return m;
    }

    @Test
    void eachAdvertisedInstructionFeatureExecutes() {
        String[][] forms = {
                {"0f44c1", "CMOVcc (leaf 1 EDX.CMOV)"}, {"0fc70e", "CMPXCHG8B (EDX.CX8)"},
                {"480fc70e", "CMPXCHG16B (ECX.CX16)"}, {"f30fb8c1", "POPCNT (ECX.POPCNT)"},
                {"0fae06", "FXSAVE (EDX.FXSR)"}, {"0fae0e", "FXRSTOR (EDX.FXSR)"}, {"0fae3e", "CLFLUSH (EDX.CLFSH)"},
                {"0f28c1", "MOVAPS (EDX.SSE)"}, {"660fd4c1", "PADDQ (EDX.SSE2)"}, {"0f31", "RDTSC (EDX.TSC)"},
                {"0f01f9", "RDTSCP (80000001H EDX.RDTSCP)"}, {"9f", "LAHF in 64-bit mode (80000001H ECX.LAHF)"},
                {"0f01ca", "CLAC (leaf 7 EBX.SMAP)"}, {"0f01cb", "STAC (leaf 7 EBX.SMAP)"},
                {"f30fbdc1", "LZCNT (80000001H ECX.LZCNT)"},
        };
        List<String> failed = new ArrayList<>();
        for (String[] f : forms) {
            IsaMachine m = machine();
            try {
                m.run(f[0]);
            } catch (CpuException e) {
                failed.add(f[1] + " [" + f[0] + "]: exception " + e.vector);
            }
            if (!m.executor.unimplemented().isEmpty()) failed.add(f[1] + ": " + m.executor.unimplemented().lines());
        }
        assertEquals(List.of(), failed, "advertised but not executed");
    }

    @Test
    void lzcntIsLzcntBecauseItIsAdvertised() {
        IsaMachine m = machine();
        m.s.gpr[CpuState.RCX] = 1;
        m.run("f30fbdc1"); // lzcnt eax, ecx
        assertEquals(31, m.reg(CpuState.RAX), "LZCNT of 1 (BSR would give 0)");
    }

    @Test
    void f3BsfIsBsfBecauseBmi1IsNotAdvertised() {
        IsaMachine m = machine();
        m.s.gpr[CpuState.RAX] = 0x55;
        m.s.gpr[CpuState.RCX] = 0;
        m.run("f30fbcc1"); // rep bsf eax, ecx: TZCNT only with BMI1
        // BSF of 0: ZF set (destination left alone); TZCNT would give 32 with CF set and ZF clear.
        assertTrue((m.flags() & Flags.ZF) != 0, "ZF: BSF found no set bit");
        assertEquals(0x55, m.reg(CpuState.RAX), "the destination of BSF with a zero source is left alone");
        assertTrue(EmulatedCpuid.table(2_000_000_000L).stream().filter(e -> e.function() == 7).allMatch(e -> (e.ebx() & 1 << 3) == 0),
                "the table advertises no BMI1");
    }
}
