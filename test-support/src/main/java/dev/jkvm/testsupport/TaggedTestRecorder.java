package dev.jkvm.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.TestTag;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Records what became of every test tagged "kvm" or "docker" (ran, or skipped and why) in
 * target/jkvm-test-tags/, one file per test JVM, because the Surefire/Failsafe XML reports do not
 * carry tags. {@link SuiteSummary} reads these files to fail a run in which such a test was
 * skipped for any reason on a host that has the facility. Registered through
 * META-INF/services, so every module with test-support on its test class path records.
 */
public final class TaggedTestRecorder implements TestExecutionListener {
    static final Set<String> TAGS = Set.of("kvm", "docker");
    static final Path DIRECTORY = SuiteSummary.TAG_RECORDS;

    private TestPlan plan;
    private final List<String> lines = new ArrayList<>();

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        List<TestIdentifier> leaves = new ArrayList<>();
        if (!id.isTest()) {
            plan.getDescendants(id).stream().filter(d -> plan.getChildren(d).isEmpty()).forEach(leaves::add);
        }
        if (leaves.isEmpty()) leaves.add(id);
        for (TestIdentifier leaf : leaves) record(leaf, "skipped", reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!id.isTest()) return;
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            record(id, "skipped", result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
        } else {
            record(id, "ran", "");
        }
    }

    private void record(TestIdentifier id, String what, String reason) {
        for (TestTag tag : id.getTags()) {
            if (!TAGS.contains(tag.getName())) continue;
            lines.add(String.join("\t", tag.getName(), what, className(id), reportName(id),
                    String.valueOf(reason).replaceAll("\\s+", " ")));
        }
    }

    /** The name Surefire gives the test in its XML report: a method without parameters loses its "()". */
    private static String reportName(TestIdentifier id) {
        String name = id.getLegacyReportingName();
        return name.endsWith("()") ? name.substring(0, name.length() - 2) : name;
    }

    private static String className(TestIdentifier id) {
        TestSource source = id.getSource().orElse(null);
        if (source instanceof MethodSource m) return m.getClassName();
        if (source instanceof ClassSource c) return c.getClassName();
        return "?";
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        // Only inside a Maven module (the test JVM's working directory); not in an IDE elsewhere.
        if (lines.isEmpty() || !Files.isDirectory(DIRECTORY.getParent())) return;
        try {
            Files.createDirectories(DIRECTORY);
            Files.write(DIRECTORY.resolve(ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tsv"), lines);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the kvm/docker tests in " + DIRECTORY.toAbsolutePath(), e);
        }
    }
}
