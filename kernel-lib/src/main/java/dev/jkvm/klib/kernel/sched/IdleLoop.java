package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Cpu;

/**
 * What each CPU's boot context runs once the scheduler is up: it becomes that CPU's idle task
 * (Scheduler.init made it so), switches to work whenever there is some, and halts otherwise.
 * STI immediately followed by HLT cannot miss a wake-up: STI holds off interrupts until the
 * instruction after it has run (Intel SDM Vol. 2B, STI), so an interrupt that makes work for
 * this CPU arrives at the HLT at the earliest and ends it, and the loop looks again.
 */
public final class IdleLoop {
    private IdleLoop() {
    }

    public static void run(long sched) {
        Cpu.cli();
        while (true) {
            int cpu = SchedArch.currentCpu();
            if (Scheduler.needResched(sched, cpu) || RunQueue.count(Scheduler.runQueue(sched, cpu)) != 0) {
                Scheduler.schedule(sched, cpu, Cpu.rdtsc());
            } else {
                Cpu.sti();
                Cpu.hlt();
                Cpu.cli();
            }
        }
    }
}
