package dev.jkvm.testsupport;

/**
 * The first words of the reason a KVM or Docker test is disabled with. Surefire and Failsafe
 * write the reason into their XML reports, where {@link SuiteSummary} finds it again.
 */
public final class SkipReasons {
    public static final String KVM = "KVM only: ";
    public static final String DOCKER = "Docker only: ";

    private SkipReasons() {}
}
