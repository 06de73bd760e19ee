package dev.jkvm.vmm.api;

import dev.jkvm.vmm.devices.Serial16550;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A started VM: wait for its outcome, stop it, read its counters, release it. */
public final class RunningVm implements AutoCloseable {
    private final Vm vm;
    private final Serial16550 console;

    RunningVm(Vm vm, Serial16550 console) {
        this.vm = vm;
        this.console = console;
    }

    /** Blocks until the VM ends (guest exit, power-off, crash, timeout or {@link #stop()}). */
    public VmOutcome await() throws InterruptedException {
        try {
            VmOutcome o = vm.outcome().get();
            console.flush();
            return o;
        } catch (ExecutionException e) {
            return VmOutcome.vmmError(String.valueOf(e.getCause()));
        }
    }

    /** Like {@link #await()} but gives up after {@code limit}; returns null if still running then. */
    public VmOutcome await(Duration limit) throws InterruptedException {
        try {
            VmOutcome o = vm.outcome().get(limit.toNanos(), TimeUnit.NANOSECONDS);
            console.flush();
            return o;
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            return VmOutcome.vmmError(String.valueOf(e.getCause()));
        }
    }

    /** Ends the run with {@link VmOutcome.Kind#STOPPED} unless it already ended. */
    public void stop() {
        vm.finish(VmOutcome.stopped("stopped by the embedder"));
    }

    /** Freezes the guest: returns once no vCPU is executing guest code. */
    public void pause() throws InterruptedException {
        vm.pause();
    }

    /** Lets a paused guest run again. */
    public void resume() {
        vm.resume();
    }

    public boolean isDone() { return vm.outcome().isDone(); }

    public VmStats stats() { return vm.stats(console.firstByteNanos()); }

    /** The machine underneath, for inspection (guest memory, vCPU state) and tests. */
    public Vm machine() { return vm; }

    /** Stops the VM if running, joins its vCPU threads and releases every fd and mapping. */
    @Override
    public void close() {
        try {
            vm.close();
        } finally {
            console.flush();
        }
    }
}
