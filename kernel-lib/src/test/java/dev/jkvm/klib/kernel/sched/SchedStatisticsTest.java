package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.proc.SchedTable;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Accounting, the statistics report, timer arming and the task table's limits. */
class SchedStatisticsTest {
    private SimMachine machine;

    @AfterEach
    void close() {
        if (machine != null) {
            assertEquals(List.of(), List.copyOf(machine.violations));
            machine.close();
        }
    }

    private long pinned(int cpu, SimMachine.Body body) {
        long task = machine.create(2, body);
        long mask = machine.arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        CpuMask.set(mask, cpu);
        Scheduler.setAffinity(machine.sched, 0, task, mask);
        machine.start(0, task);
        return task;
    }

    @Test
    void runAndIdleTimeAddUpToTheElapsedTimeOfEachCpu() {
        machine = new SimMachine(2, 8, false);
        long busy = pinned(0, (m, cpu, t) -> { });
        long halfIdle = pinned(1, (m, cpu, t) -> {
            if (m.ranTicks.get(t).get() % 2 == 0) {
                m.sleepUntil(cpu, t, m.now() + SimMachine.TICK_TSC);
            }
        });
        long start = machine.now();
        int rounds = 400;
        machine.rounds(rounds);
        long elapsed = machine.now() - start;
        long idle0 = CpuStats.get(machine.runQueue(0), CpuStats.IDLE_TSC);
        long idle1 = CpuStats.get(machine.runQueue(1), CpuStats.IDLE_TSC);
        assertEquals(elapsed, Task.runTsc(busy) + idle0, 2 * SimMachine.TICK_TSC, "cpu 0: run + idle = elapsed");
        assertEquals(elapsed, Task.runTsc(halfIdle) + idle1, 2 * SimMachine.TICK_TSC, "cpu 1: run + idle = elapsed");
        assertTrue(idle0 <= 2 * SimMachine.TICK_TSC, "cpu 0 never idled after its task arrived");
        // It runs a period, sleeps at the next tick for one period and is woken by the tick after.
        assertEquals(elapsed / 2.0, idle1, elapsed * 0.05, "the sleeper's CPU idles every other period");
        assertEquals(rounds, CpuStats.get(machine.runQueue(1), CpuStats.TICKS));
        assertEquals(Task.switches(halfIdle), CpuStats.get(machine.runQueue(1), CpuStats.TASKS_RUN));
    }

    @Test
    void theTablePrintsOneRowOfCountersPerCpu() {
        machine = new SimMachine(3, 8, false);
        pinned(2, (m, cpu, t) -> { });
        machine.rounds(5);
        Asm.hostDefine(Log.PUTC, args -> {
            Console.print(String.valueOf((char) args[0]));
            return 0;
        });
        Console.hostClear();
        try (Arena arena = HostArena.ofConfined()) {
            long idleBase = arena.allocate(3 * 8L, 8).address();
            SchedTable.snapshotIdle(machine.sched, idleBase);
            SchedTable.print(machine.sched, machine.now(), machine.now(), idleBase);
        }
        String[] lines = Console.hostOutput().split("\n");
        assertEquals(4, lines.length, "a header and one row per CPU");
        assertTrue(lines[3].startsWith("sched: 2  1  1  "), lines[3]);
        assertEquals("5", lines[1].split("  ")[6], "cpu 0's ticks: " + lines[1]);
    }

    @Test
    void anIdleCpuArmsItsTimerForItsNextSleeperButNoLaterThanTheBalanceInterval() {
        machine = new SimMachine(2, 8, false);
        List<Long> armed = new ArrayList<>();
        Asm.hostDefine(SchedArch.TIMER_ONESHOT, args -> {
            armed.add(args[0]);
            return 0;
        });
        long tick = SimMachine.TICK_TSC;
        assertEquals(Scheduler.DEFAULT_BALANCE_INTERVAL, TimerArming.arm(machine.sched, 1, machine.now(), tick));
        long sleeper = pinned(1, (m, cpu, t) -> m.sleepUntil(cpu, t, m.now() + 3 * tick + 1));
        assertEquals(1, TimerArming.arm(machine.sched, 1, machine.now(), tick), "work queued: tick every period");
        machine.round();
        assertEquals(TaskState.BLOCKED, Task.state(sleeper));
        assertEquals(4, TimerArming.arm(machine.sched, 1, machine.now(), tick), "ceil(3 ticks + 1 cycle)");
        assertEquals(List.of((long) Scheduler.DEFAULT_BALANCE_INTERVAL, 1L, 4L), armed);
    }

    @Test
    void aFullTableRefusesTasksAndFreedSlotsComeBackWithNewIds() {
        machine = new SimMachine(1, 4, false);
        Set<Long> ids = new HashSet<>();
        List<Long> tasks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long task = machine.create(0, (m, cpu, t) -> m.exit(cpu, t, 0));
            assertTrue(task != 0);
            tasks.add(task);
            ids.add(Task.id(task));
        }
        assertEquals(0, machine.create(0, (m, cpu, t) -> { }), "capacity 4 = 3 tasks + 1 idle task");
        assertEquals(0, Scheduler.createTask(machine.sched, 0, 0, RunQueue.LEVELS, 0, 0), "priority out of range");
        for (long task : tasks) {
            machine.start(0, task);
        }
        machine.rounds(5);
        for (long task : tasks) {
            assertEquals(TaskState.EXITED, Task.state(task));
            TaskExit.reap(machine.sched, task);
        }
        for (int i = 0; i < 3; i++) {
            long task = machine.create(0, (m, cpu, t) -> { });
            assertTrue(tasks.contains(task), "a freed slot is reused");
            assertTrue(ids.add(Task.id(task)), "with an ID never seen before");
        }
    }
}
