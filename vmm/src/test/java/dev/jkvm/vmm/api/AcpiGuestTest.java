package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.acpi.AcpiPmPorts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ACPI platform as a guest meets it: the RSDP where §5.2.5.1 says, and S5 power-off. */
class AcpiGuestTest {
    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void guestFindsTheRsdpAndPowersOffThroughPm1aControl(Accelerator accel) throws Exception {
        // ACPI 6.5 §5.2.5.3: the RSDP starts with "RSD PTR "; §4.8.3.2.1: SLP_TYP | SLP_EN in PM1a_CNT.
        String guest = """
                _start:
                    cmpl $0x20445352, 0xe0000
                    jne no_rsdp
                    cmpl $0x20525450, 0xe0004
                    jne no_rsdp
                    mov $0x%x, %%dx
                    mov $0x%x, %%ax
                    out %%ax, %%dx
                1:  hlt
                    jmp 1b
                no_rsdp:
                    mov $0x13, %%al
                    out %%al, $0xf4
                """.formatted(AcpiPmPorts.PM1A_CNT_BLK,
                (AcpiPmPorts.SLP_TYP_S5 << AcpiPmPorts.SLP_TYP_SHIFT) | AcpiPmPorts.SLP_EN);
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(2).memory(16 << 20).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.POWER_OFF, outcome.kind(), outcome.toString());
            assertEquals(ExitStatus.POWER_OFF, outcome.exitStatus());
        }
    }
}
