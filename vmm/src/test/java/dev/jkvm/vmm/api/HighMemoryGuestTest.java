package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * More than 3 GiB of RAM is split around the PCI/LAPIC hole: the part past 3 GiB appears at
 * 4 GiB. The guest writes through its own page tables to the last RAM word below the hole and
 * to the first word above 4 GiB; the host reads both back.
 */
class HighMemoryGuestTest {
    static final long HIGH_RAM = 4L << 20;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void ramAboveThreeGibIsMappedAtFourGib(Accelerator accel) throws Exception {
        String guest = "_start:\n" + GuestSnippets.ENTER_LONG_MODE + """
                long_mode:
                    # PDPT[2] → PD at 0x13000 whose last entry maps 0xBFE00000; PDPT[4] → PD at 0x14000 for 4 GiB.
                    movq $0x13003, 0x11010
                    movq $0x14003, 0x11020
                    mov $0xBFE00083, %eax
                    mov %rax, 0x13000 + 511 * 8
                    mov $0x100000083, %rax
                    mov %rax, 0x14000
                    mov %cr3, %rax
                    mov %rax, %cr3
                    mov $0x1111222233334444, %rax
                    mov $0xBFFFFFF8, %edi
                    mov %rax, (%rdi)
                    mov $0x5555666677778888, %rax
                    mov $0x100000000, %rdi
                    mov %rax, (%rdi)
                    mov $1, %al
                    out %al, $0xf4
                1:  hlt
                    jmp 1b
                """;
        long memory = GuestLayout.MMIO_HOLE_START + HIGH_RAM;
        try (RunningVm run = GuestAccelerators.builder(accel).memory(memory).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(ExitStatus.debugExit(1), outcome.exitStatus(), outcome + "\n" + outcome.crashReport());
            GuestMemory mem = run.machine().memory();
            List<GuestMemory.Region> regions = mem.regions();
            assertEquals(2, regions.size());
            assertEquals(0, regions.get(0).base());
            assertEquals(GuestLayout.MMIO_HOLE_START, regions.get(0).size());
            assertEquals(GuestLayout.MMIO_HOLE_END, regions.get(1).base());
            assertEquals(HIGH_RAM, regions.get(1).size());
            assertEquals(0x1111222233334444L, mem.read64(GuestLayout.MMIO_HOLE_START - 8));
            assertEquals(0x5555666677778888L, mem.read64(GuestLayout.MMIO_HOLE_END));
        }
    }
}
