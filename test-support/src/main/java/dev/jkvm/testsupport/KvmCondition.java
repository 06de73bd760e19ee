package dev.jkvm.testsupport;

import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a {@link KvmTest} where /dev/kvm is usable and disables it, naming why, where it is not.
 * JKVM_KVM=absent disables them on any host; JKVM_KVM=present does not make a missing device
 * work: the tests are still disabled, and the suite's summary fails the run because of it.
 */
public final class KvmCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> problem = Forced.of("JKVM_KVM") == Forced.ABSENT
                ? Optional.of("KVM treated as absent (JKVM_KVM=absent)")
                : KvmProbe.problemOfDevKvm();
        return problem.map(p -> ConditionEvaluationResult.disabled(SkipReasons.KVM + p))
                .orElseGet(() -> ConditionEvaluationResult.enabled("/dev/kvm is usable"));
    }
}
