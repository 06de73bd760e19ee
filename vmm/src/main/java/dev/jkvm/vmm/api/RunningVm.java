package dev.jkvm.vmm.api;

import dev.jkvm.vmm.Vm;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/** A started VM: wait for its outcome, stop it, read its counters, release it. */
public final class RunningVm implements AutoCloseable {
    private final Vm vm;
    private final LongSupplier firstSerialByteNanos;

    RunningVm(Vm vm, LongSupplier firstSerialByteNanos) {
        this.vm = vm;
        this.firstSerialByteNanos = firstSerialByteNanos;
    }

    /** Blocks until the VM ends (guest exit, power-off, crash, timeout or {@link #stop()}). */
    public VmOutcome await() throws InterruptedException {
        try {
            return vm.outcome().get();
        } catch (ExecutionException e) {
            return VmOutcome.vmmError(String.valueOf(e.getCause()));
        }
    }

    /** Like {@link #await()} but gives up after {@code limit}; returns null if still running then. */
    public VmOutcome await(Duration limit) throws InterruptedException {
        try {
            return vm.outcome().get(limit.toNanos(), TimeUnit.NANOSECONDS);
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

    public boolean isDone() { return vm.outcome().isDone(); }

    public VmStats stats() { return vm.stats(firstSerialByteNanos.getAsLong()); }

    /** The machine underneath, for inspection (guest memory, vCPU state) and tests. */
    public Vm machine() { return vm; }

    /** Stops the VM if running, joins its vCPU threads and releases every fd and mapping. */
    @Override
    public void close() {
        vm.close();
    }
}
