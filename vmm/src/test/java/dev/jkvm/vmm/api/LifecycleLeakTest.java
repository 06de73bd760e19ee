package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100 create/boot/destroy cycles in one process leave no thread, fd or mapping behind, on each
 * accelerator: a KVM cycle opens /dev/kvm, a VM fd, vCPU fds, kvm_run mappings, guest RAM and vCPU
 * threads; an emulated one maps guest RAM and starts vCPU threads and the platform timer thread.
 */
class LifecycleLeakTest {
    static final int WARMUP = 5;
    static final int CYCLES = 100;
    /**
     * The JVM itself maps regions during the run (code cache and metaspace commits split their
     * reservations, thread stacks, malloc arenas): 48 more lines were seen once over 100 cycles
     * when the test ran late in the whole suite. Below {@link #CYCLES}, so a mapping leaked once
     * per cycle still fails; the VMM's own per-cycle mappings are also checked exactly
     * ({@link #vcpuMappings}) and by size ({@link #MAPPED_SLACK}).
     */
    static final int MAPPINGS_SLACK = 64;
    /** The JVM's own threads that may start during the run (dynamic compiler threads: seen +1 and -3). */
    static final int THREADS_SLACK = 4;
    /**
     * Guest RAM per cycle. The kernel merges adjacent anonymous mappings into one line of
     * /proc/self/maps, so leaked RAM is caught by the mapped size instead: 100 leaked 64 MiB
     * mappings are far above what the JVM's own arenas can add.
     */
    static final long RAM = 64L << 20;
    static final long MAPPED_SLACK = 256L << 20;

    record Usage(long threads, long fds, List<String> maps, long mappedBytes) {
        long mappings() { return maps.size(); }

        /** kvm_run areas: each KVM vCPU fd's mmap shows as {@code anon_inode:kvm-vcpu:N}. */
        long vcpuMappings() { return maps.stream().filter(l -> l.contains("anon_inode:kvm-vcpu")).count(); }

        @Override public String toString() {
            return "threads=" + threads + " fds=" + fds + " mappings=" + maps.size() + " mappedMiB=" + (mappedBytes >> 20);
        }
    }

    /** The lines of {@code after} not in {@code before}, without addresses, for the failure message. */
    static String newMappings(Usage before, Usage after) {
        List<String> seen = before.maps().stream().map(LifecycleLeakTest::withoutAddresses).toList();
        List<String> added = new java.util.ArrayList<>(after.maps().stream().map(LifecycleLeakTest::withoutAddresses).toList());
        for (String line : seen) added.remove(line);
        return String.join("\n  ", added.subList(0, Math.min(added.size(), 40)));
    }

    static String withoutAddresses(String mapsLine) {
        String[] f = mapsLine.trim().split("\\s+", 6);
        return f[1] + (f.length > 5 ? " " + f[5] : "");
    }

    static Usage usage() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"));
             Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            long mapped = 0;
            List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
            for (String line : maps) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                mapped += Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
            }
            return new Usage(tasks.count(), fds.count(), maps, mapped);
        }
    }

    static void cycle(VirtualMachine machine) throws Exception {
        try (RunningVm run = machine.start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome.toString());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void hundredCyclesReleaseEverything(Accelerator accel) throws Exception {
        VirtualMachine machine = GuestAccelerators.builder(accel).cpus(2).memory(RAM)
                .kernel(GnuToolchain.multibootElf(SerialAndDebugExitTest.HELLO))
                .timeout(Duration.ofSeconds(60)).build();
        for (int i = 0; i < WARMUP; i++) cycle(machine);
        Usage before = usage();
        try (RunningVm run = machine.start()) {
            run.await();
            // The exact kvm_run check below counts something: a live KVM VM shows its 2 vCPUs' areas.
            long live = usage().vcpuMappings() - before.vcpuMappings();
            assertEquals(accel == Accelerator.KVM ? 2 : 0, live, "kvm_run mappings of a live 2-vCPU VM");
        }
        for (int i = 0; i < CYCLES; i++) cycle(machine);
        Usage after = usage();
        // Not equality: the JVM starts and ends threads of its own (compiler threads come and go
        // with the JIT's load); a leak of the 2 vCPU threads (and a timer thread) per cycle would add hundreds.
        assertTrue(after.threads() <= before.threads() + THREADS_SLACK, "threads before/after: " + before + " / " + after);
        assertEquals(before.fds(), after.fds(), "open fds before/after: " + before + " / " + after);
        assertEquals(before.vcpuMappings(), after.vcpuMappings(), "kvm_run mappings before/after: " + before + " / " + after);
        assertTrue(after.mappings() <= before.mappings() + MAPPINGS_SLACK,
                "mappings grew from " + before.mappings() + " to " + after.mappings()
                        + " over " + CYCLES + " cycles (each cycle maps RAM and 2 kvm_run areas); new:\n  "
                        + newMappings(before, after));
        assertTrue(after.mappedBytes() <= before.mappedBytes() + MAPPED_SLACK,
                "mapped bytes grew by " + ((after.mappedBytes() - before.mappedBytes()) >> 20) + " MiB over " + CYCLES + " cycles");
    }
}
