package dev.jkvm.klib.compiler;

import dev.jkvm.klib.compiler.samples.Violations;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Code outside the subset is rejected with a message naming class, method, bytecode index and
 * source line. Independent oracles: the expected line comes from a marker in the sample's
 * source file, and javap (the JDK disassembler) confirms the instruction at the reported index.
 */
class CompilerSubsetViolationTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/jkvm/klib/compiler/samples/Violations.java");

    @ParameterizedTest
    @CsvSource({
        "allocates, new, heap",
        "allocatesArray, newarray, heap",
        "callsVirtual, invokevirtual, only static methods",
        "usesFloat, i2f, integers only",
        "storesIntoArray, iastore, read-only",
        "readsWritableArray, getstatic, static final",
        "concatenates, invokedynamic, invokedynamic",
    })
    void instructionOutsideTheSubsetIsReportedWithItsSite(String method, String mnemonic, String reason)
            throws IOException {
        SubsetViolation v = assertThrows(SubsetViolation.class, () -> compile(method));
        assertEquals(Violations.class.getName(), v.className());
        assertTrue(v.methodName().startsWith(method + "("), v.getMessage());
        assertEquals(markerLine(method), v.sourceLine(), v.getMessage());
        assertEquals(mnemonic, javapInstructionAt(method, v.bytecodeIndex()), v.getMessage());
        assertTrue(v.getMessage().contains(reason), v.getMessage());
        assertTrue(v.getMessage().contains("line " + markerLine(method)), v.getMessage());
        assertTrue(v.getMessage().contains("bci " + v.bytecodeIndex()), v.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "lockedMethod, synchronized",
        "catches, try/catch",
        "instanceMethod, not static",
        "choosesLiteral, different string literals on the operand stack",
    })
    void wholeMethodViolationsNameTheMethod(String method, String reason) {
        SubsetViolation v = assertThrows(SubsetViolation.class, () -> compile(method));
        assertTrue(v.getMessage().startsWith(Violations.class.getName() + "." + method + "("), v.getMessage());
        assertTrue(v.getMessage().contains(reason), v.getMessage());
    }

    private static void compile(String method) {
        new JavaSubsetCompiler(CompilerSubsetViolationTest.class.getClassLoader())
                .addMethod(Violations.class.getName(), method).compile();
    }

    private static int markerLine(String method) throws IOException {
        List<String> lines = Files.readAllLines(SOURCE);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// VIOLATION:" + method)) {
                return i + 1;
            }
        }
        throw new IllegalStateException("no marker for " + method);
    }

    /** The mnemonic javap prints at the bytecode index inside the method. */
    private static String javapInstructionAt(String method, int bci) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        java.util.spi.ToolProvider javap = java.util.spi.ToolProvider.findFirst("javap").orElseThrow();
        String classes = Path.of("target/test-classes").toAbsolutePath().toString();
        javap.run(new PrintStream(out), System.err, "-c", "-p", "-cp", classes, Violations.class.getName());
        String text = out.toString();
        int start = text.indexOf(" " + method + "(");
        Matcher m = Pattern.compile("\\n\\s+" + bci + ": (\\w+)").matcher(text);
        if (start < 0 || !m.find(start)) {
            throw new IllegalStateException("javap shows no instruction at " + bci + " in " + method);
        }
        return m.group(1);
    }
}
