package dev.jkvm.it.container;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame.OutputType;
import org.testcontainers.utility.MountableFile;

/**
 * One run of the launcher image: configure, {@link #start()}, {@link #awaitExit()}, then
 * {@link #close()} removes the container. The serial log, stderr and report are written under
 * target/container-logs as test artifacts before the container goes.
 */
final class VmContainer implements AutoCloseable {
    /** Where the launcher writes its --report inside the container (the image's WORKDIR is /tmp). */
    static final String REPORT_PATH = "/tmp/report.json";
    private static final Duration EXIT_TIMEOUT = Duration.ofMinutes(3);

    private final String logName;
    private final GenericContainer<?> container;
    private final List<String> args = new ArrayList<>();

    VmContainer(String logName) {
        this.logName = logName;
        @SuppressWarnings("resource") // closed by close()
        GenericContainer<?> c = new GenericContainer<>(LauncherImage.get())
                .withStartupCheckStrategy(new ExitedOrRunning())
                // The VMM needs no capability at all: /dev/kvm's permissions are the whole grant.
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withCapDrop(Capability.ALL)
                        .withSecurityOpts(List.of("no-new-privileges")));
        this.container = c;
    }

    /** Passes the host's /dev/kvm in and lets the non-root user open it through the device's group. */
    VmContainer withKvm() throws IOException {
        int gid = HostKvm.groupId();
        container.withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                .withDevices(Device.parse(HostKvm.DEVICE + ":" + HostKvm.DEVICE + ":rwm"))
                .withGroupAdd(List.of(Integer.toString(gid))));
        return this;
    }

    VmContainer withFile(Path hostFile, String containerPath) {
        container.withCopyFileToContainer(MountableFile.forHostPath(hostFile, 0644), containerPath);
        return this;
    }

    VmContainer withArgs(String... launcherArgs) {
        args.addAll(List.of(launcherArgs));
        return this;
    }

    void start() {
        container.withCommand(args.toArray(String[]::new));
        container.start();
    }

    /** Waits for the launcher to exit and collects what it left, saving it as test artifacts. */
    ContainerOutcome awaitExit() throws IOException {
        String id = container.getContainerId();
        long status = DockerEngine.client().waitContainerCmd(id)
                .start().awaitStatusCode(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        String serial = container.getLogs(OutputType.STDOUT);
        String stderr = container.getLogs(OutputType.STDERR);
        Optional<String> report = copyReport();
        Path dir = Path.of(System.getProperty("jkvm.container.logs", "target/container-logs"));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(logName + ".serial.log"), serial);
        Files.writeString(dir.resolve(logName + ".stderr.log"), stderr);
        if (report.isPresent()) Files.writeString(dir.resolve(logName + ".report.json"), report.get());
        return new ContainerOutcome(id, status, serial, stderr, report);
    }

    private Optional<String> copyReport() {
        if (!args.contains("--report")) return Optional.empty();
        try {
            return Optional.of(container.copyFileFromContainer(REPORT_PATH,
                    in -> new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    String containerId() {
        return container.getContainerId();
    }

    /** Stops (if still running) and removes the container. */
    @Override
    public void close() {
        container.stop();
    }

    /** Start, wait, remove: the whole life of one launcher container. */
    static ContainerOutcome run(VmContainer vm) throws IOException {
        try (vm) {
            vm.start();
            return vm.awaitExit();
        }
    }
}
