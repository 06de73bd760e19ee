package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** hello.elf (kernel-lib: multiboot entry, own page tables, long mode, compiled Java) on the emulated BSP alone. */
class BootHelloTest {
    @Test
    void helloPrintsAndExits() throws Exception {
        BootHarness h = new BootHarness(BootHarness.resource("hello.elf"), 64 << 20);
        long t0 = System.nanoTime();
        h.run(100_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("hello.elf: " + h.exits + " exits, " + h.cpu.executor.retired + " instructions, " + ms + " ms, last exit "
                + h.last + ", RIP 0x" + Long.toHexString(h.cpu.s.rip));
        assertEquals("Hello from jkvm\ncompiled Java says 6 * 7 = 0x000000000000002a\n", h.serial.toString());
        assertEquals(CpuExit.Kind.PORT_OUT, h.last.kind, "ended on the debug-exit port");
    }
}
