// Bring-up as an embedding program sees it: the JVM is already running (the VMM is a library
// in it), so "launch" is VirtualMachine.start(). Boots the image RUNS times after one warm-up
// boot and prints, per boot, the milliseconds from start() to the serial line
// "smp: N cpus online" and the guest's own figure from that line. Asserts nothing.
// Usage: java --enable-native-access=ALL-UNNAMED -cp vmm-launcher.jar EmbeddedBringUp.java IMAGE CPUS RUNS
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class EmbeddedBringUp {
    private static final Pattern ONLINE = Pattern.compile("smp: (\\d+) cpus online after (\\d+) ms");

    /** Collects serial output and completes when the online line is complete. */
    private static final class OnlineWatch extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<String> line = new CompletableFuture<>();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            if (b == '\n' && !line.isDone()) {
                Matcher m = ONLINE.matcher(bytes.toString(StandardCharsets.ISO_8859_1));
                if (m.find()) {
                    line.complete(m.group(2));
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        byte[] image = Files.readAllBytes(Path.of(args[0]));
        int cpus = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        for (int i = -1; i < runs; i++) {
            OnlineWatch watch = new OnlineWatch();
            VirtualMachine vm = VirtualMachine.builder().cpus(cpus).memory(256L << 20).kernel(image)
                    .cmdline("test=boot").console(watch).timeout(Duration.ofSeconds(60)).build();
            long start = System.nanoTime();
            try (RunningVm running = vm.start()) {
                String guestMs = watch.line.get(60, TimeUnit.SECONDS);
                double ms = (System.nanoTime() - start) / 1e6;
                running.await();
                if (i >= 0) {
                    System.out.printf("%.1f %s%n", ms, guestMs);
                }
            }
        }
    }
}
