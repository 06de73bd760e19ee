package dev.jkvm.vmm.api;

/**
 * Holds vCPU threads outside guest execution while the VM is paused. {@link #pause} is answered only
 * when every running vCPU thread has parked here, so the guest is really stopped: its memory
 * and registers can be read consistently, and no guest time passes until {@link #resume}.
 */
final class PauseGate {
    private boolean paused;
    private int parked;

    synchronized void requestPause() {
        paused = true;
    }

    synchronized boolean pauseRequested() {
        return paused;
    }

    /** Waits until {@code expected} threads have parked, or the VM stops. */
    synchronized void awaitParked(int expected, java.util.function.BooleanSupplier stopping) throws InterruptedException {
        while (parked < expected && !stopping.getAsBoolean()) wait(10);
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
