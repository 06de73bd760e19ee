package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.compiler.SymbolNames;
import dev.jkvm.klib.kernel.smp.IpiSend;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.sync.KernelCodeDisassembly;
import dev.jkvm.klib.kernel.sync.SyncPanic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every sched class is kernel code: the subset compiler must accept all of it. */
class SchedSubsetCompileTest {
    private static KernelCodeDisassembly code;

    @BeforeAll
    static void compile() throws Exception {
        code = KernelCodeDisassembly.compile(CpuSelect.class, CpuStats.class, LoadBalance.class, RunQueue.class,
                SchedArch.class, SchedPanic.class, Scheduler.class, BlockingSemaphore.class, Sleep.class, SleepTimers.class,
                Task.class, TaskExit.class, TaskFrame.class, TaskState.class, TaskTable.class, WaitOutcome.class,
                WaitQueue.class, TimerArming.class, IdleLoop.class);
    }

    @Test
    void needsExactlyTheArchitectureRoutinesSchedArchDocuments() {
        assertEquals(Set.of(SchedArch.CONTEXT_SWITCH, SchedArch.TASK_TRAMPOLINE_ADDRESS, SchedArch.ENTER_USER,
                SchedArch.CURRENT_CPU, SchedArch.TIMER_ONESHOT, SchedArch.LOAD_ADDRESS_SPACE,
                SchedArch.SET_KERNEL_STACK, IpiSend.SYMBOL, InterruptFlag.READ_RFLAGS_SYMBOL, SyncPanic.SYMBOL,
                SymbolNames.CONSOLE_PRINT, SymbolNames.CONSOLE_PRINT_HEX, SymbolNames.PANIC_DIVIDE_BY_ZERO),
                code.externals());
    }

    @Test
    void theIdleLoopHaltsRightAfterEnablingInterrupts() {
        List<String> body = code.method("IdleLoop.run");
        int sti = body.indexOf("sti");
        assertTrue(sti >= 0, () -> String.join("\n", body));
        assertEquals("hlt", body.get(sti + 1), "nothing may run between STI and HLT");
    }

    @Test
    void wakeClaimsTheSleepWithOneLockedCompareAndSwap() {
        assertTrue(code.contains("Scheduler.wake", "lock cmpxchg"));
        assertTrue(code.contains("Scheduler.cancelBlock", "lock cmpxchg"));
    }

    @Test
    void switchWaitsForTheSavedStackPointerWithPause() {
        assertTrue(code.contains("Scheduler.switchTo", "pause"));
        assertTrue(code.method("Scheduler.switchTo").stream().anyMatch(t -> t.startsWith("call")));
    }
}
