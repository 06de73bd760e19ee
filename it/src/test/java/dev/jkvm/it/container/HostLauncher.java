package dev.jkvm.it.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The same launcher jar run directly on the host with the full JDK (java -jar): the reference a
 * container run must match, since the image is only a different way to ship that jar.
 */
final class HostLauncher {
    record Result(int exitStatus, String stdout, String stderr) {}

    private HostLauncher() {}

    static Result run(String... args) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("jkvm.launcher.jar", "../vmm/target/vmm-launcher.jar")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("no launcher jar at " + jar + "; the vmm module builds it at package: run mvn -B -ntp verify");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String stdout = readAll(p.getInputStream());
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the launcher on the host did not exit within 3 minutes");
        }
        return new Result(p.exitValue(), stdout, stderr.join());
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
