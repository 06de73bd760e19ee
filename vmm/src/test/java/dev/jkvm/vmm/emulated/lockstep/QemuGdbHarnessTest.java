package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.images.Hello;
import dev.jkvm.klib.image.KernelImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lockstep harness checked against QEMU alone, before any emulated CPU exists: the gdbstub
 * client reaches the multiboot entry of {@code hello} in the state the multiboot spec prescribes,
 * single steps move RIP exactly as objdump's decoding of each instruction says, register and
 * memory writes round-trip, and the kernel then runs to its isa-debug-exit with its serial output.
 */
class QemuGdbHarnessTest {
    private static KernelImage image;
    private static Path kernel;

    @BeforeAll
    static void build() throws Exception {
        assumeTrue(QemuTarget.available() && Objdump.available(), "qemu-system-x86_64 and objdump are needed");
        image = Hello.build();
        kernel = Files.createTempFile("lockstep-hello", ".elf");
        kernel.toFile().deleteOnExit();
        image.writeTo(kernel);
    }

    @Test
    void entryStateIsMultibootAndStepsFollowTheInstructionStream() throws Exception {
        try (QemuTarget q = QemuTarget.start(kernel, "pc", "64M")) {
            q.runTo(image.entryPoint());
            X86State s = q.state();
            // Multiboot spec 0.6.96 §3.2: EAX magic, 32-bit protected mode, paging off.
            assertEquals(0x2BADB002L, s.gpr[0] & 0xFFFF_FFFFL, "EAX at the multiboot entry");
            assertEquals(1, s.cr0 & 0x8000_0001L, "CR0.PE set, PG clear");
            SegmentState seg = q.segments();
            assertEquals(0, seg.base()[1], "flat CS");
            assertEquals(0, seg.cpl());

            Objdump objdump = new Objdump();
            long longModeEntry = image.symbols().get("boot_long_mode");
            long helloStart = image.symbols().get("hello_start");
            boolean sawLongMode = false;
            int checked = 0;
            for (int step = 0; step < 1000; step++) {
                int bits = (s.efer & 0x400) != 0 ? 64 : 32;
                byte[] code = q.read(s.rip, 16);
                Objdump.Line insn = objdump.first(code, s.rip, bits);
                GdbRemote.StopReply r = q.step();
                assertTrue(r.stopped(), "step " + step + " stopped: " + r);
                X86State next = q.state();
                // QEMU sometimes answers a step without executing anything (seen once on an IN under
                // load, as Lockstep notes for TCG retranslating a block for I/O): step again.
                for (int i = 0; i < 4 && next.rip == s.rip && next.differences(s, 0).isEmpty(); i++) {
                    r = q.step();
                    assertTrue(r.stopped(), "step " + step + " stopped: " + r);
                    next = q.state();
                }
                if (!insn.transfersControl()) {
                    assertEquals(s.rip + insn.length(), next.rip,
                            "step " + step + ": RIP after '" + insn.text() + "' at 0x" + Long.toHexString(s.rip));
                    checked++;
                }
                if (next.rip == longModeEntry) {
                    sawLongMode = true;
                    // SDM Vol. 3A §10.8.5: LME and LMA, PG and PE, PAE; CS the 64-bit selector 8.
                    assertEquals(0x500, next.efer & 0x500, "EFER.LME|LMA after the far jump");
                    assertEquals(0x8000_0001L, next.cr0 & 0x8000_0001L);
                    assertEquals(0x20, next.cr4 & 0x20);
                    assertEquals(image.symbols().get("boot_pml4"), next.cr3);
                    assertEquals(8, next.selector[1]);
                    assertEquals(1 << 13, q.segments().attr()[1] & 1 << 13, "CS.L");
                }
                if (sawLongMode && next.rip == helloStart) assertEquals(64, bits);
                s = next;
            }
            assertTrue(sawLongMode, "the 32-bit boot reached boot_long_mode within 1000 steps");
            assertTrue(checked > 500, "most steps were straight-line and checked: " + checked);
        }
    }

    @Test
    void registerAndMemoryWritesRoundTripAndTheKernelStillRuns() throws Exception {
        try (QemuTarget q = QemuTarget.start(kernel, "pc", "64M")) {
            long helloStart = image.symbols().get("hello_start");
            q.runTo(helloStart);
            X86State before = q.state();
            Random rnd = new Random(1);
            X86State set = before.copy();
            for (int i = 0; i < 16; i++) set.gpr[i] = rnd.nextLong();
            set.gpr[4] = before.gpr[4];
            set.rflags = 0x2 | X86State.CF | X86State.ZF | X86State.OF | X86State.AF;
            for (int i = 0; i < 32; i++) set.xmm[i] = rnd.nextLong();
            q.setState(set);
            X86State back = q.state();
            assertEquals(java.util.List.of(), back.differences(set, 0), "G then g returns what was written");

            long scratch = helloStart + 0x100000; // identity-mapped RAM beyond the image, unused by hello
            byte[] data = new byte[3000];
            rnd.nextBytes(data);
            q.write(scratch, data);
            assertArrayEquals(data, q.read(scratch, data.length), "M then m");
            assertArrayEquals(data, q.physical(scratch, data.length), "M then pmemsave (identity mapping)");

            q.setState(before);
            assertEquals(java.util.List.of(), q.state().differences(before, 0));
            GdbRemote.StopReply end;
            try {
                end = q.gdb.cont();
            } catch (GdbRemote.TargetGoneException gone) {
                end = new GdbRemote.StopReply('X', 0, "connection closed");
            }
            assertTrue(!end.stopped(), "the kernel ran to its exit: " + end);
            assertTrue(q.serial().startsWith("Hello from jkvm"), "serial output: " + q.serial());
        }
    }
}
