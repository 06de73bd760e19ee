package dev.jkvm.vmm.kvm;

import dev.jkvm.testsupport.KvmTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failed calls name the call, the object and the errno, as the kernel reported it. */
class KvmExceptionTest {
    @Test
    void openOfAMissingFileNamesPathAndEnoent() {
        KvmException e = assertThrows(KvmException.class,
                () -> Libc.open("/nonexistent/jkvm", LibcAbi.O_RDWR, "/nonexistent/jkvm"));
        assertEquals("open", e.call());
        assertEquals("/nonexistent/jkvm", e.object());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().startsWith("open on /nonexistent/jkvm failed: ENOENT (2)"), e.getMessage());
    }

    @KvmTest
    @Test
    void creatingTheSameVcpuTwiceIsRefusedByKvm() {
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm(); KvmVcpu first = vm.createVcpu(0)) {
            KvmException e = assertThrows(KvmException.class, () -> vm.createVcpu(0));
            assertEquals("vm", e.object());
            assertTrue(e.call().startsWith("KVM_CREATE_VCPU"), e.call());
            assertEquals("EEXIST", e.errnoName(), e.getMessage());
            assertEquals(0, first.index());
        }
    }

    @KvmTest
    @Test
    void anIoctlOnAClosedFdReportsEbadf() {
        Kvm kvm = Kvm.open();
        KvmVm vm = kvm.createVm();
        vm.close();
        KvmException e = assertThrows(KvmException.class, vm::createIrqchip);
        assertEquals("EBADF", e.errnoName());
        assertEquals("KVM_CREATE_IRQCHIP on vm failed: EBADF (9)", e.getMessage());
        kvm.close();
    }
}
