package dev.jkvm.it;

import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.api.VmStats;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** Boots a kernel on our VMM through the embedding API and collects what a test checks. */
public final class Jkvm {
    public record Result(VmOutcome outcome, String serial, VmStats stats) {}

    private Jkvm() {}

    public static Result run(Path kernel, int cpus, long memory, Duration timeout, int... offlineCpus) throws InterruptedException {
        return run(Accelerator.AUTO, kernel, cpus, memory, timeout, offlineCpus);
    }

    /** As {@link #run(Path, int, long, Duration, int...)} on the given accelerator. */
    public static Result run(Accelerator accelerator, Path kernel, int cpus, long memory, Duration timeout, int... offlineCpus)
            throws InterruptedException {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine.Builder builder = VirtualMachine.builder().accelerator(accelerator).cpus(cpus).memory(memory).kernel(kernel)
                .console(serial).timeout(timeout);
        for (int index : offlineCpus) builder.offlineCpu(index);
        VirtualMachine vm = builder.build();
        try (RunningVm run = vm.start()) {
            VmOutcome outcome = run.await();
            return new Result(outcome, serial.toString(StandardCharsets.ISO_8859_1), run.stats());
        }
    }
}
