package dev.jkvm.klib.nativecode;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness for test classes that run machine code on host cores (@NativeCode): each runs in
 * a JVM of its own (NativeCodeChild), its tests are reported here one by one, and a crash of
 * that JVM (a SIGSEGV in compiled code, which no Java code can catch) is a failed test naming
 * the test that was running, the signal and the faulting address, instead of a lost test JVM.
 * -Djkvm.nativeCode=ClassA,ClassB runs only those classes (simple names).
 */
class NativeCodeHarnessTest {
    private static final Path TEST_CLASSES = testClasses();
    private static final Path CRASHES = TEST_CLASSES.getParent().resolve("native-code-crashes");

    @TestFactory
    Stream<DynamicNode> nativeCodeClassesEachInAJvmOfTheirOwn() {
        List<String> only = Arrays.stream(System.getProperty("jkvm.nativeCode", "").split(","))
                .filter(s -> !s.isBlank()).toList();
        return nativeCodeClasses().stream()
                .filter(c -> only.isEmpty() || only.contains(c.substring(c.lastIndexOf('.') + 1)))
                .map(c -> DynamicContainer.dynamicContainer(c.substring(c.lastIndexOf('.') + 1),
                        // Lazily: the child runs when JUnit reaches this container.
                        Stream.of(c).flatMap(name -> results(NativeCodeRun.of(name, CRASHES)))));
    }

    @Test
    void aSegfaultInNativeCodeIsAFailedTestWithTheFaultingAddress() {
        NativeCodeRun run = NativeCodeRun.of(NativeCrashSample.class.getName(), CRASHES);
        assertTrue(run.lost.isPresent(), "the sample's JVM should have crashed");
        assertTrue(run.crash.isPresent(), run.lostMessage());
        assertEquals("SIGSEGV (SEGV_MAPERR)", run.crash.get().signal(), run.lostMessage());
        assertEquals(NativeCrashSample.WILD_ADDRESS, Long.decode(run.crash.get().address()), run.lostMessage());
        assertTrue(run.runningWhenLost.endsWith("readsAWildAddressInNativeCode()"), run.lostMessage());
        assertEquals(List.of("passesBeforeTheCrash()"), run.results.stream().map(r -> r.name()
                .substring(r.name().lastIndexOf("> ") + 2)).toList(), "results reported before the crash survive");
    }

    private static Stream<DynamicNode> results(NativeCodeRun run) {
        List<DynamicNode> tests = new ArrayList<>();
        for (NativeCodeRun.Result r : run.results) {
            tests.add(DynamicTest.dynamicTest(r.name(), () -> {
                switch (r.status()) {
                    case "SUCCESSFUL" -> {
                    }
                    case NativeCodeChild.SKIPPED -> throw new TestAbortedException(r.detail());
                    case "ABORTED" -> throw new TestAbortedException(firstLine(r.detail()));
                    default -> throw new AssertionFailedError(run.testClass + " > " + r.name()
                            + " failed in its own JVM:\n" + r.detail());
                }
            }));
        }
        if (run.lost.isPresent()) {
            String name = run.runningWhenLost == null ? "the JVM of " + run.testClass : run.runningWhenLost;
            tests.add(DynamicTest.dynamicTest(name + " (JVM lost)", () -> {
                throw new AssertionFailedError(run.lostMessage());
            }));
        }
        return tests.stream();
    }

    private static String firstLine(String text) {
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    /** Every class under test-classes annotated @NativeCode. */
    static List<String> nativeCodeClasses() {
        try (Stream<Path> files = Files.walk(TEST_CLASSES)) {
            List<String> names = files.map(p -> TEST_CLASSES.relativize(p).toString())
                    .filter(p -> p.endsWith(".class") && !p.contains("$"))
                    .map(p -> p.substring(0, p.length() - ".class".length()).replace('/', '.'))
                    .sorted().toList();
            List<String> marked = new ArrayList<>();
            for (String name : names) {
                Class<?> cls = Class.forName(name, false, NativeCodeHarnessTest.class.getClassLoader());
                if (cls.isAnnotationPresent(NativeCode.class)) {
                    marked.add(name);
                }
            }
            return marked;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path testClasses() {
        try {
            return Path.of(NativeCodeHarnessTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
