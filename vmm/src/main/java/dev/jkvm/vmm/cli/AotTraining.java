package dev.jkvm.vmm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Main class of the distribution's AOT-cache training run ({@code dist/src/build/train-aot-cache.sh},
 * JEP 483/514): runs the launcher several times in one JVM, so that one cache holds the classes
 * of every path a user's first run may take — a boot on KVM and a boot on the emulated CPU, which
 * share little beyond the devices, and a kernel from the jar as well as one from a file. The JVM
 * records one cache per process, hence one process for all runs rather than one training run
 * per accelerator.
 *
 * <p>Arguments: launcher command lines separated by {@code --next}, e.g.
 * {@code --cpus 2 --timeout 60s --next --accel emulated --kernel default-image-file --timeout 8s};
 * the argument {@value #DEFAULT_IMAGE_FILE} stands for a temporary file holding the built-in
 * image, so that reading a kernel file ({@code --kernel}, what most users do) is trained too.
 * Each run's status is printed on standard error; the statuses do not matter to the cache (a
 * timeout is a normal end of a training run), so this always exits 0.
 */
public final class AotTraining {
    private AotTraining() {
    }

    /** The separator between two launcher command lines. */
    static final String NEXT = "--next";

    /** Stands for a temporary copy of the built-in image in the file system. */
    static final String DEFAULT_IMAGE_FILE = "default-image-file";

    public static void main(String[] args) throws IOException {
        Path imageFile = null;
        try {
            for (List<String> run : runs(args)) {
                if (run.contains(DEFAULT_IMAGE_FILE) && imageFile == null) {
                    imageFile = Files.createTempFile("jkvm-aot-training-", ".elf");
                    Files.write(imageFile, DefaultImage.bytes());
                }
                List<String> command = withImageFile(run, imageFile);
                int status = Launcher.run(command.toArray(String[]::new), System.err);
                System.err.println("aot-training: vmm " + String.join(" ", run) + " -> status " + status);
            }
        } finally {
            if (imageFile != null) Files.deleteIfExists(imageFile);
        }
    }

    /** The run with {@value #DEFAULT_IMAGE_FILE} replaced by {@code imageFile}. */
    static List<String> withImageFile(List<String> run, Path imageFile) {
        List<String> command = new ArrayList<>(run.size());
        for (String arg : run) {
            command.add(arg.equals(DEFAULT_IMAGE_FILE) ? imageFile.toString() : arg);
        }
        return command;
    }

    static List<List<String>> runs(String[] args) {
        List<List<String>> runs = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals(NEXT)) {
                runs.add(current);
                current = new ArrayList<>();
            } else {
                current.add(arg);
            }
        }
        runs.add(current);
        return runs;
    }
}
