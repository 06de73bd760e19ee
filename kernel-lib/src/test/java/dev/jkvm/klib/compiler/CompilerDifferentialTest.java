package dev.jkvm.klib.compiler;

import dev.jkvm.klib.compiler.samples.Arithmetic;
import dev.jkvm.klib.compiler.samples.Control;
import dev.jkvm.klib.compiler.samples.Statics;
import dev.jkvm.klib.nativecode.NativeCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every public static method of the sample classes runs on the JVM and compiled to native code
 * in this process, over edge-value arguments; results (and panics with their source site) must
 * be identical.
 */
@NativeCode
class CompilerDifferentialTest {
    private static final List<Class<?>> SAMPLES = List.of(Arithmetic.class, Control.class, Statics.class);
    private static CompiledUnit unit;
    private static HostNativeRuntime runtime;

    @BeforeAll
    static void compileSamples() {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(CompilerDifferentialTest.class.getClassLoader());
        SAMPLES.forEach(compiler::addClass);
        unit = compiler.compile();
        runtime = new HostNativeRuntime(unit, Map.of());
    }

    @AfterAll
    static void unload() {
        runtime.close();
    }

    private static List<Method> methods(Class<?> cls) {
        List<Method> list = new ArrayList<>();
        for (Method m : cls.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())
                    && m.getParameterCount() <= 6) {
                list.add(m);
            }
        }
        list.sort(Comparator.comparing(Method::getName));
        return list;
    }

    @TestFactory
    List<DynamicTest> compiledCodeMatchesTheJvm() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Class<?> cls : SAMPLES) {
            for (Method m : methods(cls)) {
                tests.add(DynamicTest.dynamicTest(cls.getSimpleName() + "." + m.getName(), () -> compare(m)));
            }
        }
        return tests;
    }

    /**
     * The same comparisons as one plain test that compiles the samples itself. PIT maps the code a
     * test runs to that test alone, and the compilation in compileSamples (@BeforeAll) is
     * credited to whichever test of the class runs first; so against a compiler mutant PIT ran
     * only that one test, and mutants that miscompile a sample survived (a switch lowered without
     * its jump table, for one). Here the compilation and every comparison are one test's. Only the
     * stateless samples: Statics' methods change static fields on both sides, and a second run of
     * them against a fresh unit would no longer start from the JVM's state.
     */
    @Test
    void everyStatelessSampleMethodMatchesTheJvmCompiledHere() {
        List<Class<?>> stateless = List.of(Arithmetic.class, Control.class);
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(CompilerDifferentialTest.class.getClassLoader());
        stateless.forEach(compiler::addClass);
        CompiledUnit ownUnit = compiler.compile();
        try (HostNativeRuntime ownRuntime = new HostNativeRuntime(ownUnit, Map.of())) {
            for (Class<?> cls : stateless) {
                for (Method m : methods(cls)) {
                    compare(ownUnit, ownRuntime, m);
                }
            }
        }
    }

    private static void compare(Method m) {
        compare(unit, runtime, m);
    }

    private static void compare(CompiledUnit unit, HostNativeRuntime runtime, Method m) {
        String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                .toMethodDescriptorString();
        var label = unit.method(m.getDeclaringClass().getName(), m.getName(), descriptor);
        Random random = new Random(m.getName().hashCode());
        for (Object[] args : DifferentialOracle.argumentSets(m.getParameterTypes(), random, 60)) {
            String expected = DifferentialOracle.jvmOutcome(m, args);
            String actual = DifferentialOracle.nativeOutcome(
                    runtime.call(label, m.getReturnType(), m.getParameterTypes(), args));
            assertEquals(expected, actual, m.getName() + Arrays.toString(args));
        }
    }

    @Test
    void stackPassedArgumentsFollowTheSysVConvention() {
        var label = unit.method(Control.class.getName(), "eightArgs", "(JIJIJIJI)J");
        FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT);
        Object[] args = {Long.MIN_VALUE, -3, 99L, Integer.MAX_VALUE, -5L, 17, 1L << 40, -1};
        long expected = Control.eightArgs(Long.MIN_VALUE, -3, 99L, Integer.MAX_VALUE, -5L, 17, 1L << 40, -1);
        assertEquals(expected, runtime.callDirect(label, fd, args));
    }
}
