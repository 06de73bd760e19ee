package dev.jkvm.vmm.emulated.cpu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counted record of valid instructions the emulator does not implement (each raised #UD in the
 * guest), so the VMM summary can say it was the emulator and not the kernel:
 * {@code unimplemented opcode 0f 01 d0 at RIP 0xffffffff81000123 (2 times)}.
 *
 * <p>Written by the vCPU thread only; {@link #lines} may be called after the vCPU stopped.
 * Allocates only when such an instruction executes.
 */
public final class UnimplementedOpcodes {
    /** Distinct (bytes, RIP) pairs kept; later ones are only counted in {@link #dropped}. */
    private static final int MAX_DISTINCT = 256;

    private final Map<String, long[]> counts = new LinkedHashMap<>();
    private long dropped;

    synchronized void record(Insn insn, long rip) {
        String key = insn.hexBytes() + " at RIP 0x" + Long.toHexString(rip);
        long[] c = counts.get(key);
        if (c != null) {
            c[0]++;
        } else if (counts.size() < MAX_DISTINCT) {
            counts.put(key, new long[] {1});
        } else {
            dropped++;
        }
    }

    /** One line per distinct opcode and RIP, in first-seen order. */
    public synchronized List<String> lines() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            long n = e.getValue()[0];
            out.add("unimplemented opcode " + e.getKey() + " (" + n + (n == 1 ? " time)" : " times)"));
        }
        if (dropped > 0) out.add("unimplemented opcodes at " + dropped + " further places not listed");
        return out;
    }

    public boolean isEmpty() {
        return counts.isEmpty() && dropped == 0;
    }
}
