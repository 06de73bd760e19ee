package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.api.GuestAccelerators;
import dev.jkvm.vmm.api.Vm;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Sregs;
import dev.jkvm.vmm.vcpu.Vcpu;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each accelerator (GuestAccelerators: KVM where usable, the emulated CPU everywhere) accepts the
 * multiboot state through the Vcpu seam and reports it back as Multiboot 0.6.96 §3.2 describes it.
 */
class BootCpuStateTest {
    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void theVcpuHoldsTheMultibootMachineState(Accelerator accel) {
        GuestAccelerators.assumeUsable(accel);
        try (Vm vm = Vm.create(accel, 1, 8 << 20, null)) {
            Vcpu bsp = vm.vcpus().get(0);
            bsp.setSregs(BootCpuState.sregs(bsp.sregs()));
            bsp.setRegs(BootCpuState.regs(0x123456, 0x9000));
            Regs r = bsp.regs();
            Sregs s = bsp.sregs();
            assertEquals(0x2BADB002L, r.rax());
            assertEquals(0x9000, r.rbx());
            assertEquals(0x123456, r.rip());
            assertEquals(0, r.rflags() & 0x200, "IF must be clear");
            assertEquals(0, r.rflags() & 0x20000, "VM must be clear");
            assertEquals(1, s.cr0() & 1, "protected mode");
            assertEquals(0, s.cr0() & 0x8000_0000L, "paging off");
            for (var seg : new dev.jkvm.vmm.vcpu.Segment[] {s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss()}) {
                assertEquals(0, seg.base());
                assertEquals(0xFFFF_FFFF, seg.limit(), seg.toString());
                assertTrue(seg.db() && seg.present() && seg.s(), seg.toString());
                assertFalse(seg.l());
            }
            assertEquals(0xB, s.cs().type() & 0xB, "CS is execute/read code");
            assertEquals(0x3, s.ds().type() & 0xB, "DS is read/write data");
        }
    }
}
