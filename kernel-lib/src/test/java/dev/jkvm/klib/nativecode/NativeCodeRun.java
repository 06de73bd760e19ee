package dev.jkvm.klib.nativecode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One test class run by NativeCodeChild in a JVM of its own: the result of every test it
 * finished and, when native code took the JVM down, the test that was running and the crash.
 */
final class NativeCodeRun {
    /** One test's result as the child reported it; status is a JUnit TestExecutionResult.Status or SKIPPED. */
    record Result(String name, String status, String detail) {
    }

    final String testClass;
    final List<Result> results = new ArrayList<>();
    /** The test that started and never finished, when the JVM died under it. */
    String runningWhenLost;
    /** Set when the child JVM ended without reporting DONE. */
    Optional<String> lost = Optional.empty();
    Optional<HsErrReport> crash = Optional.empty();

    private NativeCodeRun(String testClass) {
        this.testClass = testClass;
    }

    /** Runs the class; its crash reports go to crashDirectory. */
    static NativeCodeRun of(String testClass, Path crashDirectory) {
        NativeCodeRun run = new NativeCodeRun(testClass);
        try {
            Files.createDirectories(crashDirectory);
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-Xmx512m",
                    "-XX:ErrorFile=" + crashDirectory.resolve("hs_err_pid%p.log"),
                    "-XX:-CreateCoredumpOnCrash"));
            // Settings the test classes read (-Dklib.fuzz.count=..., -Djkvm.hostMemory=...) go along.
            System.getProperties().stringPropertyNames().stream()
                    .filter(k -> k.startsWith("klib.") || k.startsWith("jkvm."))
                    .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
            command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                    NativeCodeChild.class.getName(), testClass));
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            child.getOutputStream().close();
            boolean done = false;
            String running = null;
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (!line.startsWith(NativeCodeChild.PREFIX + "\t")) {
                        System.out.println(line);
                        continue;
                    }
                    String[] f = line.split("\t", -1);
                    switch (f[1]) {
                        case NativeCodeChild.STARTED -> running = NativeCodeChild.decode(f[2]);
                        case NativeCodeChild.SKIPPED -> run.results.add(new Result(NativeCodeChild.decode(f[2]),
                                NativeCodeChild.SKIPPED, NativeCodeChild.decode(f[3])));
                        case NativeCodeChild.FINISHED -> {
                            String name = NativeCodeChild.decode(f[2]);
                            run.results.add(new Result(name, f[3], NativeCodeChild.decode(f[4])));
                            if (name.equals(running)) {
                                running = null;
                            }
                        }
                        case NativeCodeChild.DONE -> done = true;
                        default -> throw new IllegalStateException("unknown protocol line from the child: " + line);
                    }
                }
            }
            int exit = child.waitFor();
            if (!done || exit != 0) {
                run.runningWhenLost = running;
                run.lost = Optional.of("the JVM running " + testClass + " ended with exit status " + exit
                        + (done ? "" : " before its tests finished"));
                Path report = crashDirectory.resolve("hs_err_pid" + child.pid() + ".log");
                if (Files.exists(report)) {
                    run.crash = Optional.of(HsErrReport.read(report));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + testClass + " in a JVM of its own", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + testClass + " ran", e);
        }
        return run;
    }

    /** The message a lost JVM fails with: which test, which signal, which address. */
    String lostMessage() {
        return lost.orElseThrow() + (runningWhenLost == null ? "" : ", while running " + runningWhenLost)
                + crash.map(c -> ": native code crashed with " + c).orElse(": no crash report");
    }
}
