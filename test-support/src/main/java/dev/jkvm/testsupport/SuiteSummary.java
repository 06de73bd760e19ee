package dev.jkvm.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The end of scripts/test: from the Surefire and Failsafe XML reports of every module (and the
 * tag records of {@link TaggedTestRecorder}) it says which tests did not run because this host
 * has no KVM or no Docker engine, and it fails the run when a host that has one skipped a test
 * that needs it, for whatever reason: a broken condition must not hide the tests it guards.
 *
 * <p>Usage: {@code java -cp test-support/target/classes dev.jkvm.testsupport.SuiteSummary ROOT};
 * exit status 0, or 1 when the guard failed. It loads no JUnit class: it runs on test-support's classes alone. JKVM_KVM and JKVM_DOCKER ({@link Forced}) say what
 * the host has; unset, the summary probes as the test conditions do.
 */
public final class SuiteSummary {
    /** What the host has: whether the facility is there, and in words why the summary thinks so. */
    public record Host(boolean present, String why) {}

    record Case(String className, String name, boolean skipped, boolean failed, String skipReason) {}

    record Tagged(String tag, String what, String className, String name, String reason) {}

    /** The summary's lines, and whether the guard failed the run. */
    public record Outcome(List<String> lines, boolean failed) {}

    /** Where {@link TaggedTestRecorder} writes, relative to a module (the test JVM's working directory). */
    static final Path TAG_RECORDS = Path.of("target", "jkvm-test-tags");

    private SuiteSummary() {}

    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Outcome outcome = summarize(root, kvmHost(), dockerHost());
        outcome.lines().forEach(System.out::println);
        System.exit(outcome.failed() ? 1 : 0);
    }

    static Host kvmHost() {
        return switch (Forced.of("JKVM_KVM")) {
            case PRESENT -> new Host(true, "KVM declared present (JKVM_KVM=present)");
            case ABSENT -> new Host(false, "KVM treated as absent (JKVM_KVM=absent)");
            case AUTO -> KvmProbe.problemOfDevKvm().map(p -> new Host(false, p))
                    .orElseGet(() -> new Host(true, "/dev/kvm is usable on this host"));
        };
    }

    static Host dockerHost() {
        if (Forced.of("JKVM_DOCKER") == Forced.PRESENT) return new Host(true, "a Docker engine is running");
        return DockerProbe.hostProblem().map(p -> new Host(false, p))
                .orElseGet(() -> new Host(true, "a Docker engine is running"));
    }

    public static Outcome summarize(Path root, Host kvm, Host docker) {
        List<Case> cases = new ArrayList<>();
        List<Tagged> tagged = new ArrayList<>();
        int reports = 0;
        for (Path module : modules(root)) {
            for (String dir : List.of("surefire-reports", "failsafe-reports")) {
                for (Path xml : files(module.resolve("target").resolve(dir), "TEST-", ".xml")) {
                    cases.addAll(parse(xml));
                    reports++;
                }
            }
            for (Path tsv : files(module.resolve(TAG_RECORDS), "", ".tsv")) {
                tagged.addAll(readTagged(tsv));
            }
        }
        List<String> lines = new ArrayList<>();
        String rule = "=".repeat(100);
        lines.add(rule);
        long ran = cases.stream().filter(c -> !c.skipped()).count();
        long failed = cases.stream().filter(Case::failed).count();
        long skipped = cases.stream().filter(Case::skipped).count();
        lines.add("tests: " + ran + " ran (" + failed + " failed or in error), " + skipped + " did not run, from "
                + reports + " Surefire/Failsafe reports");
        boolean guardFailed = facility("kvm", SkipReasons.KVM, "KVM only", kvm, kvm, docker, cases, tagged, ran, lines);
        guardFailed |= facility("docker", SkipReasons.DOCKER, "Docker only", docker, kvm, docker, cases, tagged, ran, lines);
        lines.add(rule);
        return new Outcome(lines, guardFailed);
    }

    /**
     * A container test that boots a guest needs both KVM and Docker; disabled for the one this host
     * lacks, it is reported under that one and is no failure of the other's guard.
     */
    private static boolean disabledForTheOther(String reason, Host kvm, Host docker) {
        return reason.startsWith(SkipReasons.DOCKER) && !docker.present() || reason.startsWith(SkipReasons.KVM) && !kvm.present();
    }

    private static boolean facility(String tag, String reasonPrefix, String only, Host host, Host kvm, Host docker,
                                    List<Case> cases, List<Tagged> tagged, long ran, List<String> lines) {
        List<Case> notRun = cases.stream().filter(c -> c.skipped() && c.skipReason().startsWith(reasonPrefix)).toList();
        if (!host.present()) {
            Map<String, Integer> byClass = new TreeMap<>();
            notRun.forEach(c -> byClass.merge(c.className(), 1, Integer::sum));
            lines.add(tag + ": " + host.why() + ": " + notRun.size() + " tests in " + byClass.size()
                    + " classes did not run (" + only + "); " + ran + " ran");
            byClass.forEach((c, n) -> lines.add("  not run: " + c + " (" + n + ")"));
            return false;
        }
        // The host has the facility: every test that needs it must have run.
        Set<String> missed = new LinkedHashSet<>();
        notRun.forEach(c -> missed.add(c.className() + "." + c.name() + ": " + c.skipReason()));
        long taggedRan = 0;
        for (Tagged t : tagged) {
            if (!t.tag().equals(tag)) continue;
            if (t.what().equals("ran")) {
                taggedRan++;
            } else if (!disabledForTheOther(t.reason(), kvm, docker)) {
                missed.add(t.className() + "." + t.name() + ": " + t.reason());
            }
        }
        if (!missed.isEmpty()) {
            lines.add("FAIL: " + tag + ": " + host.why() + ", yet " + missed.size() + " tests tagged \"" + tag
                    + "\" did not run; the run fails so that no such test is skipped silently:");
            missed.forEach(m -> lines.add("  did not run: " + m));
            return true;
        }
        lines.add(tag + ": " + host.why() + ": " + taggedRan + " tests tagged \"" + tag + "\" ran, none skipped");
        return false;
    }

    private static List<Path> modules(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> Files.isDirectory(p.resolve("target"))).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> files(Path dir, String prefix, String suffix) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(suffix);
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Case> parse(Path xml) {
        try {
            Element suite = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile()).getDocumentElement();
            NodeList testcases = suite.getElementsByTagName("testcase");
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < testcases.getLength(); i++) {
                Element tc = (Element) testcases.item(i);
                Optional<Element> skip = child(tc, "skipped");
                boolean failed = child(tc, "failure").isPresent() || child(tc, "error").isPresent();
                String reason = skip.map(SuiteSummary::reasonOf).orElse("");
                cases.add(new Case(tc.getAttribute("classname"), tc.getAttribute("name"), skip.isPresent(), failed, reason));
            }
            return cases;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the test report " + xml + ": " + e.getMessage(), e);
        }
    }

    /** A disabled test's reason is the message attribute; an aborted one's is the exception's text. */
    private static String reasonOf(Element skipped) {
        String message = skipped.getAttribute("message");
        if (message.isEmpty()) message = skipped.getTextContent().strip().lines().findFirst().orElse("");
        return message.replaceFirst("^org\\.opentest4j\\.TestAbortedException: (Assumption failed: )?", "");
    }

    private static Optional<Element> child(Element parent, String name) {
        NodeList nodes = parent.getElementsByTagName(name);
        return nodes.getLength() == 0 ? Optional.empty() : Optional.of((Element) nodes.item(0));
    }

    private static List<Tagged> readTagged(Path tsv) {
        try {
            return Files.readAllLines(tsv).stream().filter(l -> !l.isBlank()).map(l -> {
                String[] f = l.split("\t", 5);
                return new Tagged(f[0], f[1], f[2], f[3], f.length > 4 ? f[4] : "");
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
