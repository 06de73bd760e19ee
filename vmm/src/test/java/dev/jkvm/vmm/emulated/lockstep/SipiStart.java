package dev.jkvm.vmm.emulated.lockstep;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Puts QEMU's one vCPU, stopped in the SMP kernel's long mode, into the state an application
 * processor has after INIT-SIPI-SIPI, with the kernel's AP trampoline installed as its BSP would
 * install it, so the lockstep compares the AP's whole way up: 16-bit real-mode code, LGDT, the
 * far jump into 32-bit protected mode, CR4/CR3/EFER, paging on, the far jump into 64-bit code and
 * the kernel's AP entry.
 *
 * <p>The trampoline is the kernel's own ({@code kernel_trampoline}, 0xF38 bytes with its parameter
 * block zero) copied to TrampolineParameters.ADDRESS 0x8000; the block gets the running kernel's
 * CR3, CR4 and EFER bits, {@code kernel_ap_entry}, an APIC-ID table saying APIC ID 0 (this vCPU's)
 * is CPU index 1, and a stack table (kernel-lib TrampolineParameters). The SIPI state (SDM Vol. 3A
 * §9.4.4.1 and Table 9-1, INIT state): real mode, CS = vector × 256 with base vector × 4096, IP 0,
 * the other segment registers 0, RFLAGS 2, CR0 0x60000010, CR3 = CR4 = EFER = 0. What the gdbstub
 * cannot set stays as the kernel left it (GDTR, IDTR, TR, LDTR: a real AP has GDTR/IDTR base 0
 * limit 0xFFFF); the trampoline loads its own GDT before using it and raises no exception before
 * long mode, and both CPUs start from QEMU's state whatever it is.
 */
final class SipiStart implements BootTrace.Preparation {
    static final long ADDRESS = 0x8000;
    static final int BLOCK = 0xF00, BLOCK_END = BLOCK + 56;
    static final long APIC_TABLE = ADDRESS + 0xE00, STACK_TABLE = ADDRESS + 0xE10, STACK_TOP = 0x7000;

    @Override
    public String prepare(QemuTarget q, Path kernel) throws Exception {
        X86State k = q.state();
        byte[] page = q.read(Images.symbol(kernel, "kernel_trampoline"), BLOCK_END);
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(BLOCK, k.cr3);
        b.putLong(BLOCK + 8, k.cr4);
        b.putLong(BLOCK + 16, k.efer & 0x901); // the bits the trampoline ORs into EFER: SCE, LME, NXE
        b.putLong(BLOCK + 24, Images.symbol(kernel, "kernel_ap_entry"));
        b.putLong(BLOCK + 32, APIC_TABLE);
        b.putLong(BLOCK + 40, STACK_TABLE);
        b.putLong(BLOCK + 48, 1); // APIC IDs below 1 are in the table
        q.write(ADDRESS, page);
        ByteBuffer t = ByteBuffer.allocate(0x20).order(ByteOrder.LITTLE_ENDIAN);
        t.putInt(0, 2);                 // APIC ID 0 -> CPU index 1 (+1)
        t.putLong(0x18, STACK_TOP);     // stack of CPU index 1
        q.write(APIC_TABLE, t.array());

        // General registers 0 (INIT state, SDM Table 9-1; EDX's processor signature aside) while
        // still in 64-bit code: outside it the gdbstub neither shows nor writes R8-R15.
        X86State zero = k.copy();
        java.util.Arrays.fill(zero.gpr, 0);
        q.setState(zero);
        // Leave long mode the architectural way round: paging and PE off, then EFER, CR4, CR3.
        q.setRegister("cr0", 0x6000_0010L);
        q.setRegister("efer", 0);
        q.setRegister("cr4", 0);
        q.setRegister("cr3", 0);
        q.setSelectors((int) (ADDRESS >>> 4), 0, 0, 0);
        q.setRegister("fs", 0);
        q.setRegister("gs", 0);
        q.setRegister("fs_base", 0);
        q.setRegister("gs_base", 0);
        X86State s = q.state();
        java.util.Arrays.fill(s.gpr, 0);
        s.rip = 0;
        s.rflags = 2;
        q.setState(s);
        X86State check = q.state();
        if (check.cr0 != 0x6000_0010L || check.efer != 0 || check.selector[1] != ADDRESS >>> 4 || check.rip != 0) {
            throw new IllegalStateException("QEMU did not take the SIPI state through its gdbstub: " + check);
        }
        return "an AP from SIPI vector 0x" + Long.toHexString(ADDRESS >>> 12) + " through the kernel's trampoline";
    }
}
