package dev.jkvm.testsupport;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Whether a Docker engine answers here. scripts/test starts the engine and, when it cannot, sets
 * JKVM_DOCKER=absent and JKVM_DOCKER_CAUSE (the engine script's own error line); otherwise
 * {@code docker info} decides, once per JVM.
 */
public final class DockerProbe {
    private static final Optional<String> PROBLEM = problem();

    private DockerProbe() {}

    /** Why no Docker engine can be used here, or empty when one answers. */
    public static Optional<String> hostProblem() {
        return PROBLEM;
    }

    private static Optional<String> problem() {
        if (Forced.of("JKVM_DOCKER") == Forced.ABSENT) {
            String cause = System.getenv("JKVM_DOCKER_CAUSE");
            return Optional.of("no Docker engine (" + (cause == null || cause.isBlank() ? "JKVM_DOCKER=absent" : cause) + ")");
        }
        try {
            Process p = new ProcessBuilder("docker", "info").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.of("no Docker engine (docker info did not answer within 30 s)");
            }
            return p.exitValue() == 0 ? Optional.empty()
                    : Optional.of("no Docker engine (docker info exited with " + p.exitValue() + ")");
        } catch (Exception e) {
            return Optional.of("no Docker engine (docker cannot be run: " + e.getMessage() + ")");
        }
    }
}
