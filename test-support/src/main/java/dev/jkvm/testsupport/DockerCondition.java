package dev.jkvm.testsupport;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a {@link DockerTest} where a Docker engine answers ({@link DockerProbe}) and disables it,
 * naming why, where none does.
 */
public final class DockerCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return DockerProbe.hostProblem().map(p -> ConditionEvaluationResult.disabled(SkipReasons.DOCKER + p))
                .orElseGet(() -> ConditionEvaluationResult.enabled("a Docker engine answers"));
    }
}
