package dev.jkvm.vmm.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Main class of the distribution's AOT-cache training run ({@code dist/src/build/train-aot-cache.sh},
 * JEP 483/514): runs the launcher several times in one JVM, so that one cache holds the classes
 * of every path a user's first run may take — a boot on KVM and a boot on the emulated CPU, which
 * share little beyond the devices. The JVM records one cache per process, hence one process for
 * all runs rather than one training run per accelerator.
 *
 * <p>Arguments: launcher command lines separated by {@code --next}, e.g.
 * {@code --cpus 2 --timeout 60s --next --accel emulated --cpus 2 --timeout 8s}. Each run's
 * status is printed on standard error; the statuses do not matter to the cache (a timeout is a
 * normal end of a training run), so this always exits 0.
 */
public final class AotTraining {
    private AotTraining() {
    }

    /** The separator between two launcher command lines. */
    static final String NEXT = "--next";

    public static void main(String[] args) {
        NativeWarmUp.start();
        for (List<String> run : runs(args)) {
            int status = Launcher.run(run.toArray(String[]::new), System.err);
            System.err.println("aot-training: vmm " + String.join(" ", run) + " -> status " + status);
        }
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
