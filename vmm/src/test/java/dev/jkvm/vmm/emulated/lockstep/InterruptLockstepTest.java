package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An external event injected into both CPUs at the same instruction boundary during a lockstep
 * trace: an NMI (QEMU's monitor command {@code nmi}; the emulated CPU's NMI event) while
 * {@link ExceptionKernel} runs, with interrupts allowed during QEMU's single step
 * ({@code Qqemu.sstep=1}: without SSTEP_NOIRQ). Delivery through the IDT's NMI gate, the pushed
 * frame (copied into registers by the handler), NMI blocking until IRETQ and the return are compared.
 */
class InterruptLockstepTest {
    @BeforeAll
    static void tools() {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        assumeTrue(EmulatedCpuUnderTest.available(), "the emulated CPU cannot execute yet");
    }

    @Test
    void anNmiAtTheSameBoundaryIsDeliveredAlike() throws Exception {
        run(true);
    }

    @Test
    void anNmiOnlyQemuGetsIsCaught() throws Exception {
        run(false);
    }

    private static void run(boolean injectIntoEmulated) throws Exception {
        Path kernel = ExceptionKernel.build();
        long entry = Images.entry(kernel);
        long injectAt = Images.symbol(kernel, "exc_after_1");
        long nmiHandler = Images.symbol(kernel, "exc_handler_2");
        Objdump objdump = new Objdump();
        try (QemuTarget q = QemuTarget.start(kernel, "pc", BootTrace.MEMORY);
             EmulatedCpuUnderTest cpu = new EmulatedCpuUnderTest(BootTrace.MEMORY_BYTES)) {
            q.runTo(injectAt);
            Lockstep lock = new Lockstep(q, cpu, objdump);
            lock.copyEverything(BootTrace.MEMORY_BYTES);
            assertEquals("OK", q.gdb.command("Qqemu.sstep=1"), "QEMU's gdbstub takes single-step flags");
            q.gdb.monitor("nmi");
            if (!injectIntoEmulated) {
                // The comparison can fail: the emulated CPU without the NMI differs at the first step.
                Lockstep.Mismatch m = lock.step(q.read(injectAt, 16), 64);
                assertTrue(m != null && m.step() == 1 && m.differences().toString().contains("rip"), String.valueOf(m));
                return;
            }
            cpu.cpu.events.post(CpuEvents.NMI);
            StringBuilder trace = new StringBuilder();
            int steps = 0;
            for (; steps < 5000; steps++) {
                X86State before = lock.oracleState();
                byte[] code = q.read(before.rip, 16);
                if (SpecialInstruction.of(code, 64) == SpecialInstruction.HLT) break;
                Lockstep.Mismatch m = lock.step(code, 64);
                if (steps < 40) trace.append(String.format("%#x ", before.rip));
                assertNull(m, () -> m.report() + "\ntrace: " + trace);
                if (steps == 0) {
                    // QEMU stops at the NMI handler's first instruction (delivery is the step), as X86Cpu.step does.
                    assertEquals(nmiHandler, lock.oracleState().rip, "the NMI was taken at the injection boundary: " + trace);
                }
            }
            X86State end = lock.oracleState();
            assertEquals(13, end.gpr[11], "ran on to the last handler: " + trace);
            System.out.printf("NMI injected at %#x: %d instructions compared, trace starts %s%n", injectAt, steps, trace);
        }
    }
}
