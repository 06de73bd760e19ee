package dev.jkvm.vmm.emulated.lockstep;

/**
 * Where the KVM oracle ({@link KvmCpuUnderTest}) cannot be compared, and why. On this project's
 * machines KVM is nested and paravirtual (kvm_pvm, shared/PLATFORM.md): guest code outside ring 3
 * does not run on the host CPU but through KVM's x86 instruction emulator (Linux
 * arch/x86/kvm/emulate.c), which (measured 2026-12-03 with the random programs, 64/32/16-bit):
 * <ul>
 *   <li>fails with KVM_EXIT_INTERNAL_ERROR, suberror 1 ("instruction emulation failed") on
 *       instructions it does not implement: SSE2 integer operations (PSHUFD, PUNPCK*, PSUB*,
 *       PCMPEQ*, PMINSW, PSLL*, MOVD/MOVQ with XMM, UNPCKHPD, ...), POPCNT, ENTER with a nesting
 *       level above 0;</li>
 *   <li>executes LZCNT and TZCNT (F3 0F BD / F3 0F BC) as BSR and BSF: its decoder ignores the F3
 *       prefix there, although the host CPU (and the CPUID KVM reports) has ABM/BMI1.</li>
 * </ul>
 * On a bare-metal KVM (VMX/SVM) neither happens, and then this class explains nothing away.
 */
final class KvmDeviations {
    private KvmDeviations() {}

    /** Why a random program's disagreement comes from the KVM oracle itself, or null when it does not. */
    static String explain(String failureReport) {
        if (!pvm()) return null;
        String first = failureReport.lines().filter(l -> l.contains("mismatch at step")).findFirst().orElse("");
        if (failureReport.contains("instruction emulation failed")) {
            int colon = first.indexOf("code): ");
            String insn = colon < 0 ? "?" : first.substring(colon + 7).trim().split("[ \\t]")[0];
            return "kvm_pvm's emulator lacks " + insn;
        }
        if (first.matches(".*code\\): (lzcnt|tzcnt) .*")) return "kvm_pvm's emulator runs LZCNT/TZCNT as BSR/BSF";
        return null;
    }

    /** True on a nested paravirtual KVM: the host kernel is a kvm-pvm guest (no VMX/SVM on this CPU). */
    static boolean pvm() {
        try {
            String cpuinfo = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
            return !cpuinfo.matches("(?s).*\\b(vmx|svm)\\b.*");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
