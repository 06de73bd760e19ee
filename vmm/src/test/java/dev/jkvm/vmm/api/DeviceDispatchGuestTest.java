package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.devices.MmioDevice;
import dev.jkvm.vmm.devices.PioDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Port and MMIO exits reach the embedder's devices with the right port/address, size, direction
 * and data — including string I/O, which KVM reports as one exit with a count — and accesses no
 * device decodes read as all ones and are counted instead of ending the VM.
 */
class DeviceDispatchGuestTest {
    static final int PORT = 0x500;
    static final long MMIO = 0xD000_0000L;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void guestAccessesReachDevicesAndUnknownOnesAreAbsorbed(Accelerator accel) throws Exception {
        List<String> pioLog = new CopyOnWriteArrayList<>();
        List<String> mmioLog = new CopyOnWriteArrayList<>();
        PioDevice pio = new PioDevice() {
            int next = 0x41;
            @Override public int read(int port, int size) {
                pioLog.add("in " + Integer.toHexString(port) + "/" + size);
                return size == 1 ? next++ : 0xBEEF;
            }
            @Override public void write(int port, int size, int value) {
                pioLog.add("out " + Integer.toHexString(port) + "/" + size + "=" + Integer.toHexString(value));
            }
        };
        MmioDevice mmio = new MmioDevice() {
            @Override public long read(long address, int size) {
                mmioLog.add("read " + Long.toHexString(address) + "/" + size);
                return 0x1122_3344L;
            }
            @Override public void write(long address, int size, long value) {
                mmioLog.add("write " + Long.toHexString(address) + "/" + size + "=" + Long.toHexString(value));
            }
        };
        // Result bits: 1 = MMIO read value, 2 = 3 bytes of rep insb, 4 = inw, 8 = unknown port
        // reads 0xFF, 16 = unknown MMIO reads all ones.
        String guest = """
                _start:
                    xor %%ebx, %%ebx
                    movl $0xCAFEF00D, 0x%x
                    mov 0x%x, %%eax
                    cmp $0x11223344, %%eax
                    jne 1f
                    or $1, %%ebx
                1:  mov $0x%x, %%dx
                    mov $0x20000, %%edi
                    mov $3, %%ecx
                    cld
                    rep insb
                    cmpl $0x434241, 0x20000
                    jne 2f
                    or $2, %%ebx
                2:  inw %%dx, %%ax
                    cmp $0xBEEF, %%ax
                    jne 3f
                    or $4, %%ebx
                3:  mov $0x1234, %%ax
                    outw %%ax, %%dx
                    mov $0x2e0, %%dx
                    inb %%dx, %%al
                    cmp $0xff, %%al
                    jne 4f
                    or $8, %%ebx
                4:  outb %%al, %%dx
                    mov 0xd1000000, %%eax
                    cmp $0xffffffff, %%eax
                    jne 5f
                    or $16, %%ebx
                5:  mov %%bl, %%al
                    out %%al, $0xf4
                6:  hlt
                    jmp 6b
                """.formatted(MMIO + 8, MMIO + 16, PORT);
        try (RunningVm run = GuestAccelerators.builder(accel).memory(16 << 20).kernel(GnuToolchain.multibootElf(guest))
                .pio(PORT, 1, pio).mmio(MMIO, 0x1000, mmio).timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(ExitStatus.debugExit(31), outcome.exitStatus(), outcome + " pio=" + pioLog + " mmio=" + mmioLog);
            assertEquals(List.of("write d0000008/4=cafef00d", "read d0000010/4"), mmioLog);
            assertEquals(List.of("in 500/1", "in 500/1", "in 500/1", "in 500/2", "out 500/2=1234"), pioLog);
            VmStats stats = run.stats();
            assertTrue(stats.unknownPortReads() >= 1 && stats.unknownPortWrites() >= 1, stats.toString());
            assertTrue(stats.unknownMmioReads() >= 1, stats.toString());
        }
    }
}
