package dev.jkvm.it.container;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Future;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The FROM-scratch launcher image, built from the context the dist module writes at package
 * time (jlinked runtime, its shared libraries, the launcher, passwd/group). Nothing is pulled.
 * Built once per test JVM and removed when the JVM exits (without Ryuk, Testcontainers leaves it).
 */
final class LauncherImage {
    private static ImageFromDockerfile image;

    private LauncherImage() {}

    static synchronized Future<String> get() {
        if (image != null) return image;
        DockerEngine.client();
        Path context = Path.of(System.getProperty("jkvm.container.context", "../dist/target/container"))
                .toAbsolutePath().normalize();
        if (!Files.isRegularFile(context.resolve("Dockerfile"))) {
            throw new AssertionError("no container build context at " + context
                    + "; the dist module writes it at package: run mvn -B -ntp verify");
        }
        image = new ImageFromDockerfile("jkvm-launcher-it", false).withFileFromPath(".", context);
        Runtime.getRuntime().addShutdownHook(new Thread(LauncherImage::remove, "remove-launcher-image"));
        return image;
    }

    private static void remove() {
        try {
            if (image.isDone()) DockerEngine.client().removeImageCmd(image.get()).withForce(true).exec();
        } catch (Exception e) {
            System.err.println("could not remove the test image jkvm-launcher-it: " + e);
        }
    }
}
