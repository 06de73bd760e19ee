package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.kernel.proc.WorkloadDescriptor;
import dev.jkvm.klib.workload.UserWorkload;

import java.util.function.Function;

/**
 * Writes the image's proc.WorkloadDescriptor into the kernel's rodata, with the routine that
 * returns its address. The expected answer comes from running the workload method on this JVM,
 * after the user unit was compiled: the compiler has by then taken the initial values of the
 * workload's static fields, so a method that writes them cannot change what the guest starts with.
 */
final class WorkloadDescriptorBuild {
    private WorkloadDescriptorBuild() {
    }

    static void emit(Assembler a, Function<String, Label> symbol, UserWorkload workload, boolean schedulerChecks,
            long watchdogMs) {
        long[] words = new long[WorkloadDescriptor.ENTRIES];
        long[] results = new long[workload.tasks()];
        long sum = 0;
        for (int index = 0; index < results.length; index++) {
            results[index] = workload.hostResult(index);
            sum += results[index];
        }
        words[WorkloadDescriptor.TASKS] = workload.tasks();
        words[WorkloadDescriptor.EXPECTED] = sum;
        words[WorkloadDescriptor.WATCHDOG_MS] = watchdogMs;
        words[WorkloadDescriptor.FLAGS] = schedulerChecks ? WorkloadDescriptor.FLAG_SCHEDULER_CHECKS : 0;
        Label table = new Label("kernel_workload_table");
        Label description = new Label("kernel_workload_description");
        a.section("rodata", Section.Kind.RODATA);
        a.bind(description).asciz(workload.description());
        Label resultTable = new Label("kernel_workload_results");
        a.align(8).bind(resultTable);
        for (long result : results) {
            a.dq(result);
        }
        a.align(8).bind(table);
        for (int i = 0; i < words.length; i++) {
            if (i == WorkloadDescriptor.DESCRIPTION) {
                a.dq(description);
            } else if (i == WorkloadDescriptor.RESULTS) {
                a.dq(resultTable);
            } else {
                a.dq(words[i]);
            }
        }
        a.section("text", Section.Kind.CODE);
        LowLevelRoutines.routine(a, symbol, WorkloadDescriptor.SYMBOL);
        a.lea(RAX, Mem.rip(table)).ret();
    }
}
