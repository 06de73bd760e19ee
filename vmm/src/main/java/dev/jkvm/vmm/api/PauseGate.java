package dev.jkvm.vmm.api;

/**
 * Holds vCPU threads outside guest execution while the VM is paused. A pause is answered only
 * when every vCPU thread inside its run loop has parked here, so the guest is really stopped: its
 * memory and registers can be read consistently, and no guest time passes until {@link #resume}.
 *
 * <p>The threads in their run loop are counted here, under the same lock as the parked ones: a
 * count taken by the pausing thread beforehand could miss a vCPU thread that was still starting,
 * which then parks (it was kicked) in place of one still running guest code, and the pause would
 * be answered too early.
 */
final class PauseGate {
    private boolean paused;
    private int parked;
    /** vCPU threads between {@link #enter} and {@link #leave}. */
    private int active;

    /** A vCPU thread enters its run loop (before it first runs guest code). */
    synchronized void enter() {
        active++;
    }

    /** A vCPU thread left its run loop for good. */
    synchronized void leave() {
        active--;
        notifyAll();
    }

    synchronized void requestPause() {
        paused = true;
    }

    synchronized boolean pauseRequested() {
        return paused;
    }

    /** Waits until every vCPU thread in its run loop has parked, or the VM stops. */
    synchronized void awaitParked(java.util.function.BooleanSupplier stopping) throws InterruptedException {
        while (parked < active && !stopping.getAsBoolean()) wait(10);
    }

    /** Called by a vCPU thread that left KVM_RUN because of a pause; returns once resumed or stopping. */
    synchronized void park(java.util.function.BooleanSupplier stopping) {
        parked++;
        notifyAll();
        try {
            while (paused && !stopping.getAsBoolean()) {
                try {
                    wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } finally {
            parked--;
        }
    }

    synchronized void resume() {
        paused = false;
        notifyAll();
    }
}
