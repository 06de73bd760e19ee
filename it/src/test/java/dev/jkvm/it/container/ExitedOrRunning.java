package dev.jkvm.it.container;

import com.github.dockerjava.api.DockerClient;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;

/**
 * Counts a container as started once Docker has started it, even if it already exited: the
 * launcher is a one-shot process whose non-zero statuses (2, 124, ...) are results under test,
 * which Testcontainers' one-shot strategies would treat as start-up failures.
 */
final class ExitedOrRunning extends StartupCheckStrategy {
    @Override
    public StartupStatus checkStartupState(DockerClient client, String containerId) {
        var state = client.inspectContainerCmd(containerId).exec().getState();
        // Docker reports a container that never finished with the zero time 0001-01-01T00:00:00Z.
        boolean finished = state.getFinishedAt() != null && !state.getFinishedAt().startsWith("0001-");
        boolean started = Boolean.TRUE.equals(state.getRunning()) || finished;
        return started ? StartupStatus.SUCCESSFUL : StartupStatus.NOT_YET_KNOWN;
    }
}
