package dev.jkvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.api.ExitStatus;
import dev.jkvm.vmm.api.VmOutcome;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Timeout;

/** Kernels that crash or never end get the right outcome and a useful report. */
class GuestFailureTest {

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void tripleFaultProducesCrashReportWithSymbol(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("triple");
        Jkvm.Result r = Jkvm.run(GuestAccelerators.use(accel), kernel, 1, 64L << 20, Duration.ofSeconds(60));
        assertEquals(VmOutcome.Kind.TRIPLE_FAULT, r.outcome().kind(), r.outcome()::toString);
        assertEquals(ExitStatus.TRIPLE_FAULT, r.outcome().exitStatus());
        assertEquals("T\n", r.serial());
        String report = r.outcome().crashReport();
        // RAX was loaded with 0xC0FFEE just before the int3; int3 is a trap, so RIP is the byte
        // after it: doomed + 5 (mov) + 1 (int3), where `jmp doomed` (eb f8) follows. The emulated CPU
        // reports the shutdown at the same RIP as KVM (the #GP itself is delivered at the int3).
        assertTrue(report.toLowerCase().contains("c0ffee"), report);
        assertTrue(report.contains("doomed+0x6"), report);
        assertTrue(report.contains("eb f8"), report);
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // a VMM that cannot interrupt KVM_RUN never returns
    void spinningGuestIsStoppedByTheTimeout(Accelerator accel) throws Exception {
        Path kernel = TestKernels.build("spin");
        Jkvm.Result r = Jkvm.run(GuestAccelerators.use(accel), kernel, 2, 64L << 20, Duration.ofSeconds(2));
        assertEquals(VmOutcome.Kind.TIMEOUT, r.outcome().kind(), r.outcome()::toString);
        assertEquals(ExitStatus.TIMEOUT, r.outcome().exitStatus());
        assertEquals("S\n", r.serial());
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void withheldCpuNeverAnswersSipi(Accelerator accel) throws Exception {
        // The smp kernel waits a bounded time for the APs fw_cfg announces, then reports who came.
        Path kernel = TestKernels.build("smp");
        Jkvm.Result r = Jkvm.run(GuestAccelerators.use(accel), kernel, 4, 64L << 20, Duration.ofSeconds(120), 2);
        assertEquals(VmOutcome.Kind.GUEST_EXIT, r.outcome().kind(), r.outcome()::toString);
        assertEquals("fw_cfg cpus: 0x00000004\ncpus online: 0x00000003\n", r.serial());
        assertEquals(ExitStatus.debugExit(3), r.outcome().exitStatus());
    }
}
