package dev.jkvm.vmm.emulated;

import java.util.ArrayList;
import java.util.List;

/**
 * The run summary's lines for opcodes the emulated CPU does not implement: each raised #UD in the
 * guest (as hardware does for an opcode it lacks) and was counted by the executor, so a user can
 * tell the emulator's gap from a bug in their kernel:
 * {@code emulated cpu: unimplemented opcode 0f 01 d0 at RIP 0x... (2 times)}.
 */
final class OpcodeReport {
    private OpcodeReport() {}

    static List<String> summary(List<EmulatedVcpu> vcpus) {
        List<String> out = new ArrayList<>();
        boolean several = vcpus.size() > 1;
        synchronized (vcpus) {
            for (EmulatedVcpu v : vcpus) {
                for (String line : v.cpu().executor.unimplemented().lines()) {
                    out.add("emulated cpu: " + line + (several ? " on vCPU " + v.index() : ""));
                }
            }
        }
        return out;
    }
}
