package dev.jkvm.klib.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.compiler.samples.JdkHelpers;
import dev.jkvm.klib.nativecode.NativeCode;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * The JDK's static helpers that compile (samples.JdkHelpers): each runs compiled natively with
 * the JVM's results, and the README's list of them is exactly the calls that class makes, so the
 * list stays true. Errors in JDK code name the user's call first, and calls over objects are named
 * as calls. It runs compiled code on the host's cores, so it runs in the native-code harness.
 */
@NativeCode
class JdkHelpersTest {
    private static final Path README = Path.of("../README.md");

    @Test
    void everyHelperRunsCompiledWithTheJvmsResults() {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(getClass().getClassLoader()).addClass(JdkHelpers.class);
        CompiledUnit unit = compiler.compile();
        int compared = 0;
        try (HostNativeRuntime runtime = new HostNativeRuntime(unit, Map.of())) {
            for (Method m : JdkHelpers.class.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                        .toMethodDescriptorString();
                var label = unit.method(JdkHelpers.class.getName(), m.getName(), descriptor);
                for (Object[] args : DifferentialOracle.argumentSets(m.getParameterTypes(), new Random(m.getName().hashCode()), 20)) {
                    String expected = DifferentialOracle.jvmOutcome(m, args);
                    String actual = DifferentialOracle.nativeOutcome(runtime.call(label, m.getReturnType(),
                            m.getParameterTypes(), args));
                    assertEquals(expected, actual, m.getName() + Arrays.toString(args));
                    compared++;
                }
            }
        }
        assertTrue(compared > 1000, "compared " + compared);
    }

    @Test
    void theReadmeListsExactlyTheHelpersThatCompile() throws IOException {
        String readme = Files.readString(README);
        Matcher block = Pattern.compile("<!-- jdk-helpers -->(.*?)<!-- /jdk-helpers -->", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "README has no <!-- jdk-helpers --> list");
        TreeSet<String> listed = new TreeSet<>();
        Matcher item = Pattern.compile("`(\\w+\\.\\w+\\([\\w, ]*\\))`").matcher(block.group(1));
        while (item.find()) {
            listed.add(item.group(1));
        }
        assertEquals(calledJdkMethods(), listed, "README's JDK helpers against samples/JdkHelpers");
    }

    /** "Math.abs(long)" for each JDK method JdkHelpers calls. */
    private static TreeSet<String> calledJdkMethods() throws IOException {
        byte[] bytes;
        try (InputStream in = JdkHelpers.class.getResourceAsStream("JdkHelpers.class")) {
            bytes = in.readAllBytes();
        }
        TreeSet<String> called = new TreeSet<>();
        for (MethodModel m : ClassFile.of().parse(bytes).methods()) {
            m.code().ifPresent(code -> code.forEach(e -> {
                if (e instanceof InvokeInstruction inv && inv.opcode() == java.lang.classfile.Opcode.INVOKESTATIC
                        && inv.owner().asInternalName().startsWith("java/")) {
                    MethodTypeDesc type = inv.typeSymbol();
                    called.add(inv.owner().asSymbol().displayName() + "." + inv.name().stringValue() + "("
                            + type.parameterList().stream().map(t -> t.displayName()).collect(Collectors.joining(", "))
                            + ")");
                }
            }));
        }
        return called;
    }

    static long addsExactly(long a) {
        return Math.addExact(a, 1); // CALL: addExact
    }

    static long printsANumber(long a) {
        String text = String.valueOf(a); // CALL: valueOf
        return text.length();
    }

    @Test
    void anErrorInsideTheJdkNamesTheUsersCallFirst() throws IOException {
        CompileException e = assertThrows(CompileException.class, () -> new JavaSubsetCompiler(getClass().getClassLoader())
                .addMethod(getClass().getName(), "addsExactly").compile());
        assertTrue(e.getMessage().startsWith(getClass().getName() + ".addsExactly (JdkHelpersTest.java:" + line("addExact")
                + ") → java.lang.Math.addExact(JJ)J (bci "), e.getMessage());
        assertTrue(e.getMessage().contains("allocates (new)"), e.getMessage());
    }

    @Test
    void aCallOverObjectsIsNamedAsACall() throws IOException {
        SubsetViolation e = assertThrows(SubsetViolation.class, () -> new JavaSubsetCompiler(getClass().getClassLoader())
                .addMethod(getClass().getName(), "printsANumber").compile());
        assertEquals(line("valueOf"), e.sourceLine(), e.getMessage());
        assertTrue(e.getMessage().contains(": calls String.valueOf(long) returning String: only static methods over"
                + " integers compile"), e.getMessage());
    }

    private static int line(String marker) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/jkvm/klib/compiler/JdkHelpersTest.java"));
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// CALL: " + marker)) {
                found.add(i + 1);
            }
        }
        assertEquals(1, found.size(), marker);
        return found.getFirst();
    }
}
