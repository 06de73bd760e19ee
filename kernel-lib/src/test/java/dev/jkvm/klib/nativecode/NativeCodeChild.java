package dev.jkvm.klib.nativecode;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The JVM of its own that NativeCodeHarnessTest starts for one test class: runs the class with
 * the JUnit Platform and reports each start and result on stdout as one protocol line (fields
 * separated by tabs, free text in Base64), flushed at once so that the parent knows which test
 * was running if native code takes this JVM down.
 */
public final class NativeCodeChild {
    static final String PREFIX = "@@native-code";
    static final String STARTED = "STARTED";
    static final String FINISHED = "FINISHED";
    static final String SKIPPED = "SKIPPED";
    static final String DONE = "DONE";

    private NativeCodeChild() {
    }

    public static void main(String[] args) {
        PrintStream protocol = System.out;
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(args[0])).build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, new TestExecutionListener() {
            private TestPlan plan;

            @Override
            public void testPlanExecutionStarted(TestPlan testPlan) {
                plan = testPlan;
            }

            @Override
            public void executionStarted(TestIdentifier id) {
                if (id.isTest()) {
                    line(protocol, STARTED, name(plan, id));
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                line(protocol, SKIPPED, name(plan, id), encode(reason));
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                // Containers are reported only when they fail (a failing @BeforeAll, say).
                if (id.isTest() || result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    String detail = result.getThrowable().map(NativeCodeChild::stackTrace).orElse("");
                    line(protocol, FINISHED, name(plan, id), result.getStatus().name(), encode(detail));
                }
            }
        });
        line(protocol, DONE);
        System.exit(0);
    }

    /** The display names from the class down to the test, joined by " > ". */
    private static String name(TestPlan plan, TestIdentifier id) {
        StringBuilder text = new StringBuilder(id.getDisplayName());
        for (TestIdentifier p = plan.getParent(id).orElse(null); p != null && p.getSource().isPresent();
                p = plan.getParent(p).orElse(null)) {
            text.insert(0, p.getDisplayName() + " > ");
        }
        return encode(text.toString());
    }

    private static String stackTrace(Throwable t) {
        StringWriter text = new StringWriter();
        t.printStackTrace(new PrintWriter(text));
        return text.toString();
    }

    static String encode(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String field) {
        return new String(Base64.getDecoder().decode(field), StandardCharsets.UTF_8);
    }

    private static synchronized void line(PrintStream out, String... fields) {
        out.println(PREFIX + "\t" + String.join("\t", fields));
        out.flush();
    }
}
