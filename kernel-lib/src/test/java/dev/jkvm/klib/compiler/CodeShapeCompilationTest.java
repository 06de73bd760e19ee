package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.bench.BenchRoutines;
import dev.jkvm.klib.compiler.samples.Arithmetic;
import dev.jkvm.klib.compiler.samples.Control;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shape of the code the optimisations promise (the differential and fuzz tests check that
 * it computes the right values): GNU objdump disassembles compiled methods and the listing is
 * searched for the instructions each optimisation must (or must not) produce.
 */
class CodeShapeCompilationTest {
    private static CompiledUnit unit;

    @BeforeAll
    static void compile() {
        unit = new JavaSubsetCompiler(CodeShapeCompilationTest.class.getClassLoader())
                .addClass(Control.class).addClass(BenchRoutines.class).addClass(Arithmetic.class).compile();
        Assembler a = unit.assembler();
        a.section("stubs", Section.Kind.CODE);
        for (Label external : unit.externals().values()) {
            a.bind(external);
            a.ud2();
        }
    }

    @Test
    void denseSwitchIsOneIndirectJumpAndSparseSwitchIsNot() throws Exception {
        List<String> dense = disassemble(Control.class, "denseSwitch", "(I)I");
        assertEquals(1, dense.stream().filter(i -> i.matches("jmp\\s+QWORD PTR \\[r\\w+\\+r\\w+\\*8\\]")).count(),
                String.join("\n", dense));
        List<String> sparse = disassemble(Control.class, "sparseSwitch", "(I)I");
        assertFalse(sparse.stream().anyMatch(i -> i.startsWith("jmp") && i.contains("PTR")), String.join("\n", sparse));
    }

    @Test
    void countedLoopHasOneConditionalJumpPerIterationAndNoJmp() throws Exception {
        List<String> loop = disassemble(BenchRoutines.class, "copyWords", "(JJI)V");
        assertFalse(loop.stream().anyMatch(i -> i.startsWith("jmp")), String.join("\n", loop));
        assertEquals(2, loop.stream().filter(i -> i.startsWith("j")).count(),
                "one test before the loop and one at its bottom:\n" + String.join("\n", loop));
    }

    @Test
    void scaledAddressesFoldIntoAddressingModes() throws Exception {
        List<String> copy = disassemble(BenchRoutines.class, "copyWords", "(JJI)V");
        Pattern scaled = Pattern.compile(".*\\[r\\w+\\+r\\w+\\*8\\].*");
        assertTrue(copy.stream().anyMatch(i -> i.startsWith("mov") && scaled.matcher(i).matches()),
                String.join("\n", copy));
        assertFalse(copy.stream().anyMatch(i -> i.startsWith("imul")), String.join("\n", copy));
        List<String> checksum = disassemble(BenchRoutines.class, "checksum", "(JI)I");
        assertTrue(checksum.stream().anyMatch(i -> i.startsWith("movzx") && i.contains("BYTE PTR [")),
                String.join("\n", checksum));
        assertFalse(checksum.stream().anyMatch(i -> i.startsWith("and") && i.contains("0xff")),
                String.join("\n", checksum));
    }

    @Test
    void shiftPairsOfOneLocalBecomeRotates() throws Exception {
        List<String> rotations = disassemble(Arithmetic.class, "rotations", "(IJ)I");
        // Three exact rotations (1 and 7 of an int, 13 of a long); the two near misses stay shifts.
        assertEquals(3, rotations.stream().filter(i -> i.startsWith("rol")).count(), String.join("\n", rotations));
        assertTrue(rotations.stream().anyMatch(i -> i.startsWith("rol") && i.matches("rol\\s+r\\w+,0xd")),
                String.join("\n", rotations));
    }

    @Test
    void loopInvariantArrayBaseIsLoadedOnce() throws Exception {
        List<String> all = disassemble(BenchRoutines.class, "walkList", "(I)I");
        // Up to the first ret: the method without its out-of-line panic stubs (which lea their messages).
        List<String> walk = all.subList(0, all.indexOf("ret"));
        List<String> loop = walk.subList(walk.indexOf(walk.stream().filter(i -> i.startsWith("j")).findFirst()
                .orElseThrow()), walk.size());
        assertEquals(2, walk.stream().filter(i -> i.startsWith("lea") && i.contains("[rip+")).count(),
                "one lea per array (VALUE, NEXT):\n" + String.join("\n", walk));
        assertFalse(loop.stream().anyMatch(i -> i.startsWith("lea") && i.contains("[rip+")),
                "array base addresses are computed before the loop, not per access:\n" + String.join("\n", walk));
    }

    /** The instructions (mnemonic and operands, Intel syntax) of one compiled method, its stubs included. */
    private static List<String> disassemble(Class<?> owner, String method, String descriptor)
            throws IOException, InterruptedException {
        Label entry = unit.method(owner.getName(), method, descriptor);
        long start = entry.offset();
        long end = unit.text().size();
        for (Label other : unit.methods().values()) {
            if (other.offset() > start && other.offset() < end) {
                end = other.offset();
            }
        }
        Path file = Files.createTempFile("klib-text", ".bin");
        try {
            Files.write(file, unit.text().bytes());
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                    "--start-address=" + start, "--stop-address=" + end, file.toString())
                    .redirectErrorStream(true).start();
            String listing = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), listing);
            return Arrays.stream(listing.split("\n"))
                    .map(l -> l.split("\t"))
                    .filter(f -> f.length >= 3 && f[0].trim().endsWith(":"))
                    .map(f -> f[2].trim().replaceAll("\\s+#.*", ""))
                    .toList();
        } finally {
            Files.delete(file);
        }
    }
}
