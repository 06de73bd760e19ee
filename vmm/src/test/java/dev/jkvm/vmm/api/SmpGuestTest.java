package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Application processors started by the guest's BSP with INIT-SIPI-SIPI through its in-kernel
 * LAPIC (Intel SDM Vol. 3 §8.4.4.1, §10.6.1), at a real-mode trampoline it copied below 1 MiB.
 * Each AP reads its APIC ID from CPUID (leaf 1 EBX[31:24], or leaf 0xB EDX, the x2APIC ID) and
 * sets that bit in a bitmap, so the test also checks the per-vCPU CPUID the VMM programs.
 */
class SmpGuestTest {
    /**
     * @param icrDestination value for ICR high (destination APIC ID in bits 31:24)
     * @param shorthand      ICR low bits 19:18 (0 = use destination, 3 = all excluding self)
     * @param expectedAps    how many APs must check in before the BSP reports
     * @param readApicId     16-bit code leaving the AP's APIC ID in EBX
     */
    static String guest(int icrDestination, int shorthand, int expectedAps, String readApicId) {
        return """
                _start:
                    # Software-enable the LAPIC: SVR (offset 0xF0) bit 8 (SDM Vol. 3 §10.9).
                    mov 0xfee000f0, %%eax
                    or $0x100, %%eax
                    mov %%eax, 0xfee000f0
                    # Copy the trampoline to 0x8000 (SIPI vector 0x08 → CS:IP = 0800:0000).
                    cld
                    mov $trampoline, %%esi
                    mov $0x8000, %%edi
                    mov $(trampoline_end - trampoline), %%ecx
                    rep movsb
                    movl $0, 0x7000
                    movl $0, 0x7004
                    # INIT, then SIPI twice: ICR high at 0x310 first, then ICR low at 0x300.
                    movl $0x%x, 0xfee00310
                    movl $(0x4500 | (%d << 18)), 0xfee00300
                    movl $0x%x, 0xfee00310
                    movl $(0x4608 | (%d << 18)), 0xfee00300
                    movl $0x%x, 0xfee00310
                    movl $(0x4608 | (%d << 18)), 0xfee00300
                wait:
                    pause
                    cmpl $%d, 0x7000
                    jne wait
                    mov 0x7004, %%eax
                    out %%al, $0xf4
                1:  hlt
                    jmp 1b

                .code16
                trampoline:
                    cli
                    xor %%ax, %%ax
                    mov %%ax, %%ds
                %s
                    lock btsl %%ebx, 0x7004
                    lock incl 0x7000
                2:  hlt
                    jmp 2b
                trampoline_end:
                """.formatted(icrDestination, shorthand, icrDestination, shorthand, icrDestination, shorthand, expectedAps, readApicId);
    }

    static final String LEAF_1_APIC_ID = "mov $1, %eax; cpuid; shr $24, %ebx";
    static final String LEAF_B_X2APIC_ID = "mov $0xb, %eax; xor %ecx, %ecx; cpuid; mov %edx, %ebx";

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void bspStartsOneApWithInitSipiSipi(Accelerator accel) throws Exception {
        byte[] kernel = GnuToolchain.multibootElf(guest(1 << 24, 0, 1, LEAF_1_APIC_ID));
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(2).memory(16 << 20).kernel(kernel)
                .timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + outcome.crashReport());
            // Bit 1 set: the AP has APIC ID 1.
            assertEquals(ExitStatus.debugExit(0b10), outcome.exitStatus());
        }
    }

    /**
     * Past 255 vCPUs APIC IDs no longer fit xAPIC's 8 bits: the APs still start by broadcast,
     * each reads its x2APIC ID from leaf 0xB and checks in; the BSP reports the count (mod 256).
     */
    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void threeHundredVcpusAllCheckIn(Accelerator accel) throws Exception {
        int cpus = 300;
        String guest = guest(0, 3, cpus - 1, LEAF_B_X2APIC_ID).replace("mov 0x7004, %eax", "mov 0x7000, %eax");
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(cpus).memory(16 << 20).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(240)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + outcome.crashReport());
            assertEquals(ExitStatus.debugExit((cpus - 1) & 0xFF), outcome.exitStatus());
            // Every x2APIC ID 1..299 set exactly once in the guest's bitmap.
            byte[] bitmap = run.machine().memory().read(0x7004, (cpus + 7) / 8);
            for (int id = 0; id < cpus; id++) {
                boolean set = (bitmap[id / 8] >> (id % 8) & 1) != 0;
                assertEquals(id != 0, set, "x2APIC ID " + id);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void broadcastStartsAllSevenApsOfAnEightCpuGuest(Accelerator accel) throws Exception {
        byte[] kernel = GnuToolchain.multibootElf(guest(0, 3, 7, LEAF_B_X2APIC_ID));
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(8).memory(16 << 20).kernel(kernel)
                .timeout(Duration.ofSeconds(240)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + outcome.crashReport());
            // APIC IDs 1..7, each exactly once.
            assertEquals(ExitStatus.debugExit(0xFE), outcome.exitStatus());
        }
    }
}
