package dev.jkvm.it.container;

import java.util.Optional;

/**
 * What one launcher container left behind: its exit status, the guest's serial console (the
 * launcher's stdout with --serial stdio), the launcher's stderr, and its --report file if any.
 */
record ContainerOutcome(String containerId, long exitStatus, String serial, String stderr, Optional<String> report) {}
