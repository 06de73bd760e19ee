package dev.jkvm.vmm.emulated;

import java.util.List;

/**
 * The run summary's lines for opcodes the emulated CPU does not implement: each raised #UD in the
 * guest (as hardware would for an unknown opcode) and was counted, so a user can tell the emulator's
 * gap from a bug in their kernel: {@code emulated cpu: unimplemented opcode 0f 01 d0 at RIP ... (2 times)}.
 */
final class UnimplementedOpcodes {
    private UnimplementedOpcodes() {}

    static List<String> summary(List<EmulatedVcpu> vcpus) {
        // Filled in once the executor records them (branch isa).
        return List.of();
    }
}
