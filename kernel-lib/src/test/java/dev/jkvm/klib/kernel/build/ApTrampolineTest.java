package dev.jkvm.klib.kernel.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.kernel.smp.BootStage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The AP trampoline decoded by GNU objdump (an independent decoder) in the mode each part runs
 * in: real mode up to the far jump, 32-bit code at the far jump's target, 64-bit code at the
 * second far jump's target. Each part must load what the parameter block promises and write
 * its stage there.
 */
class ApTrampolineTest {
    private static final long BASE = TrampolineParameters.ADDRESS;

    private static String objdump(Path bin, String machine, long start) throws Exception {
        Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", machine,
                "--adjust-vma=0x" + Long.toHexString(BASE), "--start-address=0x" + Long.toHexString(start),
                bin.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out;
    }

    /** The instructions up to and including the first line matching {@code end}. */
    private static String upTo(String listing, String end) {
        Matcher m = Pattern.compile(end).matcher(listing);
        assertTrue(m.find(), () -> "no " + end + " in:\n" + listing);
        return listing.substring(0, m.end());
    }

    private static long farTarget(String part, String selector) {
        Matcher m = Pattern.compile("ljmpl?\\s+\\$" + selector + ",\\$0x([0-9a-f]+)").matcher(part);
        assertTrue(m.find(), () -> "no far jump through " + selector + " in:\n" + part);
        return Long.parseLong(m.group(1), 16);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    @Test
    void decodesAsRealThenProtectedThenLongModeCodeOverTheParameterBlock() throws Exception {
        byte[] bytes = ApTrampoline.build();
        assertEquals(TrampolineParameters.BLOCK_END, bytes.length);
        Path bin = Files.createTempFile("trampoline", ".bin");
        try {
            Files.write(bin, bytes);
            String real = upTo(objdump(bin, "i8086", BASE), "ljmpl.*\\n");
            assertTrue(real.contains("cli"), real);
            assertTrue(real.contains("lgdtw"), real);
            assertTrue(real.contains("mov    %eax,%cr0"), real);
            // The AP's APIC ID from CPUID (leaf 1, or leaf 0xB), its stage byte indexed by it.
            long stages = BASE + TrampolineParameters.STAGES;
            assertTrue(real.contains("cpuid"), real);
            assertTrue(real.contains("shr    $0x18,%ebx"), real);
            assertTrue(real.contains("movb   $0x" + BootStage.REAL + "," + hex(stages) + "(%ebp)"), real);
            long protectedStart = farTarget(real, "0x8");

            String prot = upTo(objdump(bin, "i386", protectedStart), "ljmp.*\\n");
            assertTrue(prot.matches("(?s).*" + Pattern.quote(hex(protectedStart).substring(2)) + ":\\s+66 b8 10 00\\s+mov\\s+\\$0x10,%ax.*"), prot);
            assertTrue(prot.contains("movb   $0x" + BootStage.PROTECTED + "," + hex(stages) + "(%ebp)"), prot);
            // CR4 is 0 after INIT: the block's value OR-ed into it is the value loaded.
            assertTrue(prot.contains("or     " + hex(BASE + TrampolineParameters.CR4) + ",%eax"), prot);
            assertTrue(prot.contains("mov    %eax,%cr4"), prot);
            assertTrue(prot.contains("mov    " + hex(BASE + TrampolineParameters.CR3) + ",%eax"), prot);
            assertTrue(prot.contains("mov    $0xc0000080,%ecx"), prot);
            assertTrue(prot.contains("or     " + hex(BASE + TrampolineParameters.EFER) + ",%eax"), prot);
            assertTrue(prot.contains("or     $0x80010001,%eax"), "CR0.PG, WP and PE:\n" + prot);
            long longStart = farTarget(prot, "0x18");

            String lm = upTo(objdump(bin, "i386:x86-64", longStart), "jmp\\s+\\*%rax.*\\n");
            assertTrue(lm.contains("mov    " + hex(BASE + TrampolineParameters.APIC_TABLE) + ",%rax"), lm);
            assertTrue(lm.contains("mov    (%rax,%rsi,4),%edi"), lm);
            assertTrue(lm.contains("mov    " + hex(BASE + TrampolineParameters.STACK_TABLE) + ",%rax"), lm);
            assertTrue(lm.contains("mov    (%rax,%rdi,8),%rsp"), lm);
            assertTrue(lm.contains("mov    " + hex(BASE + TrampolineParameters.ENTRY) + ",%rax"), lm);
            assertTrue(lm.contains("movb   $0x" + BootStage.STACK + "," + hex(stages) + "(%rbp)"), lm);
            int end = Integer.parseInt(lm.substring(lm.lastIndexOf("\n    ") + 5, lm.lastIndexOf(":")), 16);
            assertTrue(end < BASE + TrampolineParameters.STAGES, "code ends before the stage bytes");
        } finally {
            Files.deleteIfExists(bin);
        }
    }
}
