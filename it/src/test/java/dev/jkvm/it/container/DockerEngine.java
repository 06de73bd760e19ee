package dev.jkvm.it.container;

import com.github.dockerjava.api.DockerClient;
import java.util.List;
import org.testcontainers.DockerClientFactory;

/** The Docker engine the container tests talk to; its absence fails a test, naming the fix. */
final class DockerEngine {
    private DockerEngine() {}

    static DockerClient client() {
        try {
            return DockerClientFactory.instance().client();
        } catch (IllegalStateException e) {
            throw new AssertionError("no Docker engine is reachable (" + e.getMessage()
                    + "); start one with: scripts/docker-engine.sh start", e);
        }
    }

    /** True while the engine still knows a container with this id, running or not. */
    static boolean hasContainer(String id) {
        return !client().listContainersCmd().withShowAll(true).withIdFilter(List.of(id)).exec().isEmpty();
    }
}
