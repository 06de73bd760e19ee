// Boots one kernel image N times in a row through the embedding API (one JVM, so the figure is
// about the VMM and the guest, not JVM start-up) and counts the boots that did not end the way
// a passing run of that image ends. Prints one line per 100 boots and a summary; asserts nothing.
// Usage: java --enable-native-access=ALL-UNNAMED -cp vmm-launcher.jar BootLoop.java IMAGE BOOTS CPUS PASS_TEXT [CMDLINE]
// A passing run shows PASS_TEXT and ends by ACPI power-off or by isa-debug-exit value 0 (status 1).
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

public class BootLoop {
    public static void main(String[] args) throws Exception {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: BootLoop IMAGE BOOTS CPUS PASS_TEXT [CMDLINE]");
            System.exit(2);
        }
        byte[] image = Files.readAllBytes(Path.of(args[0]));
        int boots = Integer.parseInt(args[1]);
        int cpus = Integer.parseInt(args[2]);
        String passText = args[3];
        String cmdline = args.length == 5 ? args[4] : "";
        long[] millis = new long[boots];
        int failures = 0;
        for (int i = 0; i < boots; i++) {
            ByteArrayOutputStream serial = new ByteArrayOutputStream();
            long start = System.nanoTime();
            VmOutcome outcome;
            try (RunningVm vm = VirtualMachine.builder().cpus(cpus).memory(256L << 20).kernel(image)
                    .cmdline(cmdline).console(serial).timeout(Duration.ofSeconds(120)).build().start()) {
                outcome = vm.await();
            }
            millis[i] = (System.nanoTime() - start) / 1_000_000;
            String out = serial.toString(StandardCharsets.ISO_8859_1);
            boolean passed = (outcome.kind() == VmOutcome.Kind.POWER_OFF
                    || outcome.kind() == VmOutcome.Kind.GUEST_EXIT && outcome.exitStatus() == 1) && out.contains(passText);
            if (!passed) {
                failures++;
                String tail = out.length() > 600 ? out.substring(out.length() - 600) : out;
                System.out.println("boot " + (i + 1) + " FAILED: " + outcome + "\n" + tail);
            }
            if ((i + 1) % 100 == 0) {
                System.out.println("  " + (i + 1) + " boots, " + failures + " failures");
            }
        }
        long[] sorted = millis.clone();
        Arrays.sort(sorted);
        System.out.printf("boot-loop: %d boots of %d vCPUs, %d failures (%.2f%%); boot to exit median %d ms, p99 %d ms, max %d ms%n",
                boots, cpus, failures, 100.0 * failures / boots, sorted[boots / 2],
                sorted[Math.min(boots - 1, boots * 99 / 100)], sorted[boots - 1]);
    }
}
