package dev.jkvm.klib.compiler;

import dev.jkvm.klib.nativecode.NativeCode;

import org.junit.jupiter.api.Test;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random programs (RandomProgramGenerator) are compiled by javac at test time, run on the JVM and
 * compiled by our compiler to run natively; outcomes, panics with their source lines included,
 * must agree. Fixed seed and 200 programs by default; -Dklib.fuzz.count=N and
 * -Dklib.fuzz.seed=S for longer or different runs.
 */
@NativeCode
class CompilerFuzzTest {
    private static final String PACKAGE = "fuzz";
    private static final int BATCH = 100;

    @Test
    void randomProgramsBehaveTheSameCompiledAndOnTheJvm() throws Exception {
        int count = Integer.getInteger("klib.fuzz.count", 200);
        long seed = Long.getLong("klib.fuzz.seed", 20261125L);
        Path dir = Files.createTempDirectory("klib-fuzz");
        int checkedCalls = 0;
        int panics = 0;
        for (int start = 0; start < count; start += BATCH) {
            int end = Math.min(count, start + BATCH);
            Path classes = compileBatch(dir, seed, start, end);
            try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                    CompilerFuzzTest.class.getClassLoader())) {
                for (int i = start; i < end; i++) {
                    String name = PACKAGE + ".Fuzz" + i;
                    int[] stats = runOne(loader, name, seed + i, dir.resolve(PACKAGE).resolve("Fuzz" + i + ".java"));
                    checkedCalls += stats[0];
                    panics += stats[1];
                }
            }
        }
        // The generator must exercise both normal results and the panic paths.
        assertTrue(checkedCalls > count * 5, "calls checked: " + checkedCalls);
        assertTrue(panics > 0, "no program panicked: the panic path went untested");
    }

    /** With -Dklib.fuzz.trace=FILE, names each call before it runs (finds a hang in native code). */
    private static void trace(String call) throws IOException {
        String file = System.getProperty("klib.fuzz.trace");
        if (file != null) {
            Files.writeString(Path.of(file), call + "\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
    }

    private static Path compileBatch(Path dir, long seed, int start, int end) throws IOException {
        Path sources = dir.resolve(PACKAGE);
        Files.createDirectories(sources);
        List<String> files = new ArrayList<>();
        for (int i = start; i < end; i++) {
            RandomProgramGenerator generator = new RandomProgramGenerator(seed + i);
            Path file = sources.resolve("Fuzz" + i + ".java");
            Files.writeString(file, generator.generate(PACKAGE, "Fuzz" + i, 3 + (int) ((seed + i) % 4)));
            files.add(file.toString());
        }
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-g", "-nowarn", "-proc:none"));
        args.addAll(files);
        int rc = javac.run(null, null, errors, args.toArray(String[]::new));
        assertEquals(0, rc, "generated sources do not compile (generator bug):\n" + errors);
        return classes;
    }

    private static int[] runOne(ClassLoader loader, String className, long seed, Path source) throws Exception {
        CompiledUnit unit = new JavaSubsetCompiler(loader).addClass(className).compile();
        Class<?> cls = Class.forName(className, false, loader);
        List<Method> methods = new ArrayList<>(Arrays.stream(cls.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers())).toList());
        methods.sort(Comparator.comparing(Method::getName));
        Random random = new Random(seed);
        int calls = 0;
        int panics = 0;
        try (HostNativeRuntime runtime = new HostNativeRuntime(unit, Map.of())) {
            for (Method m : methods) {
                String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                        .toMethodDescriptorString();
                var label = unit.method(className, m.getName(), descriptor);
                for (int k = 0; k < 6; k++) {
                    Object[] args = new Object[m.getParameterCount()];
                    for (int p = 0; p < args.length; p++) {
                        Class<?> type = m.getParameterTypes()[p];
                        List<Object> edges = DifferentialOracle.edges(type);
                        args[p] = random.nextBoolean() ? edges.get(random.nextInt(edges.size()))
                                : DifferentialOracle.randomValue(type, random);
                    }
                    trace(className + "." + m.getName() + Arrays.toString(args) + " " + source);
                    String actual = DifferentialOracle.nativeOutcome(
                            runtime.call(label, m.getReturnType(), m.getParameterTypes(), args));
                    String expected = DifferentialOracle.jvmOutcome(m, args);
                    assertEquals(expected, actual, className + "." + m.getName() + Arrays.toString(args)
                            + " (source: " + source + ", seed " + seed + ")");
                    calls++;
                    if (expected.startsWith("panic")) {
                        panics++;
                    }
                }
            }
        }
        return new int[] {calls, panics};
    }
}
