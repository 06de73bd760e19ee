/*
 * The Java side of the exit round-trip benchmark: boots native-shims/bench/exit_guest.bin (the
 * same guest the C floor runs) through the embedding API and times the same interval the floor
 * does — from the first write to port 0x80 to the debug-exit write — inside the vCPU thread.
 * Also measures the bytes the vCPU thread allocates per exit in that steady state.
 *
 * Run by scripts/bench: java -cp vmm-launcher.jar ExitBench.java GUEST.bin REPEATS
 */
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.devices.PioDevice;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

public class ExitBench {
    /** Counts the benchmark port's writes; the first one starts the clock, as in exit_floor.c. */
    static final class BenchPort implements PioDevice {
        final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long exits;
        long startNanos;
        long startAllocated;

        @Override
        public int read(int port, int size) {
            return 0;
        }

        @Override
        public void write(int port, int size, int value) {
            if (exits++ == 0) {
                startAllocated = threads.getCurrentThreadAllocatedBytes();
                startNanos = System.nanoTime();
            }
        }
    }

    /** Marks the end from inside the vCPU thread before the VM is torn down. */
    static final class EndPort implements PioDevice {
        final BenchPort bench;
        long endNanos;
        long endAllocated;

        EndPort(BenchPort bench) {
            this.bench = bench;
        }

        @Override
        public int read(int port, int size) {
            return 0;
        }

        @Override
        public void write(int port, int size, int value) {
            endNanos = System.nanoTime();
            endAllocated = bench.threads.getCurrentThreadAllocatedBytes();
        }
    }

    public static void main(String[] args) throws Exception {
        byte[] guest = Files.readAllBytes(Path.of(args[0]));
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        for (int i = 0; i < repeats; i++) {
            BenchPort bench = new BenchPort();
            EndPort end = new EndPort(bench);
            VirtualMachine vm = VirtualMachine.builder().cpus(1).memory(64L << 20).kernel(guest)
                    .pio(0x80, 1, bench).pio(0x81, 1, end).build();
            try (RunningVm run = vm.start()) {
                VmOutcome outcome = run.await();
                if (outcome.kind() != VmOutcome.Kind.GUEST_EXIT) throw new IllegalStateException("guest ended with " + outcome);
            }
            double nsPerExit = (double) (end.endNanos - bench.startNanos) / bench.exits;
            double bytesPerExit = (double) (end.endAllocated - bench.startAllocated) / bench.exits;
            System.out.printf(java.util.Locale.ROOT, "jkvm_ns_per_exit %.1f %d %.3f%n", nsPerExit, bench.exits, bytesPerExit);
        }
    }
}
