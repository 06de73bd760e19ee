package dev.jkvm.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary and its guard on fabricated Surefire reports and tag records, both kinds of host. */
class SuiteSummaryTest {
    private static final SuiteSummary.Host KVM = new SuiteSummary.Host(true, "/dev/kvm is usable on this host");
    private static final SuiteSummary.Host NO_KVM = new SuiteSummary.Host(false, "/dev/kvm absent on this host");
    private static final SuiteSummary.Host DOCKER = new SuiteSummary.Host(true, "a Docker engine is running");
    private static final SuiteSummary.Host NO_DOCKER = new SuiteSummary.Host(false, "no Docker engine (dockerd exited)");

    @TempDir
    Path root;

    private void report(String module, String className, String testcases) throws IOException {
        Path dir = Files.createDirectories(root.resolve(module).resolve("target/surefire-reports"));
        Files.writeString(dir.resolve("TEST-" + className + ".xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="%s" tests="0">%s</testsuite>
                """.formatted(className, testcases));
    }

    private void tags(String module, String... lines) throws IOException {
        Path dir = Files.createDirectories(root.resolve(module).resolve("target/jkvm-test-tags"));
        Files.write(dir.resolve("1-1.tsv"), List.of(lines));
    }

    private static String passed(String cls, String name) {
        return "<testcase name=\"" + name + "\" classname=\"" + cls + "\" time=\"0.1\"/>";
    }

    private static String skipped(String cls, String name, String message) {
        return "<testcase name=\"" + name + "\" classname=\"" + cls + "\" time=\"0\"><skipped message=\"" + message
                + "\"/></testcase>";
    }

    private void noKvmRun() throws IOException {
        report("vmm", "a.GuestTest", passed("a.GuestTest", "loads") + skipped("a.GuestTest", "boots",
                "KVM only: /dev/kvm absent on this host") + skipped("a.GuestTest", "halts", "KVM only: /dev/kvm absent on this host"));
        report("it", "b.QemuTest", passed("b.QemuTest", "tcg") + passed("b.QemuTest", "tcg2"));
        report("it", "b.JkvmTest", skipped("b.JkvmTest", "b.JkvmTest", "KVM only: /dev/kvm absent on this host"));
        tags("vmm", "kvm\tskipped\ta.GuestTest\tboots\tKVM only: /dev/kvm absent on this host",
                "kvm\tskipped\ta.GuestTest\thalts\tKVM only: /dev/kvm absent on this host");
    }

    @Test
    void withoutKvmTheSummaryNamesWhatDidNotRunAndPasses() throws IOException {
        noKvmRun();
        SuiteSummary.Outcome outcome = SuiteSummary.summarize(root, NO_KVM, DOCKER);
        String text = String.join("\n", outcome.lines());
        assertFalse(outcome.failed(), text);
        assertTrue(text.contains("kvm: /dev/kvm absent on this host: 3 tests in 2 classes did not run (KVM only); 3 ran"), text);
        assertTrue(text.contains("  not run: a.GuestTest (2)") && text.contains("  not run: b.JkvmTest (1)"), text);
    }

    @Test
    void theSameReportsFailTheRunWhereKvmIsPresent() throws IOException {
        noKvmRun();
        SuiteSummary.Outcome outcome = SuiteSummary.summarize(root, KVM, DOCKER);
        String text = String.join("\n", outcome.lines());
        assertTrue(outcome.failed(), text);
        assertTrue(text.contains("FAIL: kvm: /dev/kvm is usable on this host, yet 3 tests tagged \"kvm\" did not run"), text);
        assertTrue(text.contains("did not run: a.GuestTest.boots: KVM only: /dev/kvm absent on this host"), text);
    }

    @Test
    void aKvmTestSkippedForAnotherReasonFailsTheRunWhereKvmIsPresent() throws IOException {
        report("vmm", "a.GuestTest", passed("a.GuestTest", "loads") + skipped("a.GuestTest", "boots", "void a.GuestTest.boots() is @Disabled"));
        tags("vmm", "kvm\tran\ta.GuestTest\tloads\t", "kvm\tskipped\ta.GuestTest\tboots\tvoid a.GuestTest.boots() is @Disabled");
        SuiteSummary.Outcome outcome = SuiteSummary.summarize(root, KVM, DOCKER);
        assertTrue(outcome.failed(), String.join("\n", outcome.lines()));
        assertTrue(outcome.lines().contains("  did not run: a.GuestTest.boots: void a.GuestTest.boots() is @Disabled"),
                String.join("\n", outcome.lines()));
        // Without KVM the same skip is not the KVM condition's, so it is neither counted nor fatal.
        assertFalse(SuiteSummary.summarize(root, NO_KVM, DOCKER).failed());
    }

    @Test
    void everyKvmTestRanWhereKvmIsPresent() throws IOException {
        report("vmm", "a.GuestTest", passed("a.GuestTest", "boots") + passed("a.GuestTest", "halts"));
        tags("vmm", "kvm\tran\ta.GuestTest\tboots\t", "kvm\tran\ta.GuestTest\thalts\t");
        SuiteSummary.Outcome outcome = SuiteSummary.summarize(root, KVM, DOCKER);
        assertFalse(outcome.failed(), String.join("\n", outcome.lines()));
        assertTrue(outcome.lines().contains("kvm: /dev/kvm is usable on this host: 2 tests tagged \"kvm\" ran, none skipped"),
                String.join("\n", outcome.lines()));
    }

    @Test
    void containerTestsWithoutAnEngineAreReportedAndFailWhereTheEngineRuns() throws IOException {
        report("it", "c.ContainerBootIT", skipped("c.ContainerBootIT", "c.ContainerBootIT", "Docker only: no Docker engine (dockerd exited)"));
        tags("it", "kvm\tskipped\tc.ContainerBootIT\tboots\tDocker only: no Docker engine (dockerd exited)",
                "docker\tskipped\tc.ContainerBootIT\tboots\tDocker only: no Docker engine (dockerd exited)");
        SuiteSummary.Outcome absent = SuiteSummary.summarize(root, KVM, NO_DOCKER);
        String text = String.join("\n", absent.lines());
        assertFalse(absent.failed(), text);
        assertTrue(text.contains("docker: no Docker engine (dockerd exited): 1 tests in 1 classes did not run (Docker only)"), text);
        SuiteSummary.Outcome present = SuiteSummary.summarize(root, KVM, DOCKER);
        assertTrue(present.failed(), String.join("\n", present.lines()));
        assertEquals(2, present.lines().stream().filter(l -> l.startsWith("FAIL: ")).count(), String.join("\n", present.lines()));
    }

    @Test
    void aContainerBootDisabledForWantOfKvmIsNoFailureOfTheDockerGuard() throws IOException {
        report("it", "c.ContainerBootIT", skipped("c.ContainerBootIT", "boots", "KVM only: /dev/kvm absent on this host"));
        tags("it", "kvm\tskipped\tc.ContainerBootIT\tboots\tKVM only: /dev/kvm absent on this host",
                "docker\tskipped\tc.ContainerBootIT\tboots\tKVM only: /dev/kvm absent on this host",
                "docker\tran\tc.ContainerFailureIT\tnoKvmDevice\t");
        SuiteSummary.Outcome outcome = SuiteSummary.summarize(root, NO_KVM, DOCKER);
        String text = String.join("\n", outcome.lines());
        assertFalse(outcome.failed(), text);
        assertTrue(text.contains("docker: a Docker engine is running: 1 tests tagged \"docker\" ran, none skipped"), text);
        assertTrue(SuiteSummary.summarize(root, KVM, DOCKER).failed(), "with KVM present the same skip fails the run");
    }
}
