package dev.jkvm.vmm.api;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Counters of a VM run.
 *
 * @param exitsPerVcpu         per vCPU: exit kind ("io", "mmio", "shutdown", ...; {@code VcpuExit.kind()}) → count
 * @param timeToFirstSerialByte from start to the first byte on the console, or null if none yet
 * @param timeToExit           from start to the outcome, or null while running
 * @param unknownPortReads     port reads no device decoded (they read as all ones)
 * @param unknownPortWrites    port writes no device decoded (dropped)
 * @param unknownMmioReads     MMIO reads outside every device and RAM
 * @param unknownMmioWrites    MMIO writes outside every device and RAM
 * @param accelerator          what ran the guest: "kvm" or "emulated"
 * @param acceleratorNotes     the accelerator's remarks on the run (e.g. unimplemented opcodes), one line each
 */
public record VmStats(List<Map<String, Long>> exitsPerVcpu, Duration timeToFirstSerialByte, Duration timeToExit,
                      long unknownPortReads, long unknownPortWrites, long unknownMmioReads, long unknownMmioWrites,
                      String accelerator, List<String> acceleratorNotes) {

    /** Total exits of one kind (e.g. "io") over all vCPUs. */
    public long totalExits(String reason) {
        long n = 0;
        for (Map<String, Long> m : exitsPerVcpu) n += m.getOrDefault(reason, 0L);
        return n;
    }
}
