package dev.jkvm.vmm.vcpu;

/**
 * A vCPU's multiprocessing state (the states of KVM API doc §4.38, which are the SDM's
 * activity states as an INIT-SIPI-SIPI start-up sees them, Vol. 3 §9.4 and §10.6.1).
 */
public enum MpState {
    /** Running or ready to run. */
    RUNNABLE,
    /** An application processor waiting for INIT (then SIPI): it executes nothing. */
    UNINITIALIZED,
    /** INIT received, waiting for a SIPI. */
    INIT_RECEIVED,
    /** Halted by HLT until an interrupt. */
    HALTED,
    /** SIPI received: starts in real mode at the vector's page on its next run. */
    SIPI_RECEIVED
}
