package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.devices.Serial16550;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KVM's in-kernel irqchip as the oracle: one script of LAPIC and I/O APIC MMIO accesses and
 * 8259/8254/port 0x61/COM1 port accesses runs as a guest on KVM (32-bit, unpaged, IF=0, the
 * values it reads stored in RAM and sent over COM1 at the end) and directly against our models;
 * every value read must agree. COM1's transmitter interrupt (IER bit 1) is the interrupt source:
 * it drives GSI 4 into the I/O APIC and the 8259 on both machines.
 *
 * <p>Left out: anything that depends on when it runs (LAPIC current count, PIT counts, OUT of
 * modes 2, 4 and 5 or of short counts, port 0x61's refresh bit), reads of the PIT's control
 * port (KVM leaves the guest's buffer unwritten: stale data), and ESR after an illegal vector
 * (KVM reports no errors at all, see LocalApic.ESR_SEND_ILLEGAL_VECTOR).
 */
class IrqChipKvmOracleTest {
    private static final long LAPIC = 0xFEE0_0000L;
    private static final long IOAPIC = IoApic.DEFAULT_BASE;
    private static final long BUFFER = 0x20_0000;

    private sealed interface Op {}

    private record MmioWrite(long address, int value) implements Op {}

    private record MmioRead(long address) implements Op {}

    private record PortWrite(int port, int value) implements Op {}

    private record PortRead(int port, int mask) implements Op {}

    private record MsrWrite(int msr, long value) implements Op {}

    /** Stores all 64 bits (two values). */
    private record MsrRead(int msr) implements Op {}

    private static final int IA32_APIC_BASE = 0x1B;

    private final List<Op> script = new ArrayList<>();

    private void lw(int reg, int value) { script.add(new MmioWrite(LAPIC + reg, value)); }

    private void lr(int reg) { script.add(new MmioRead(LAPIC + reg)); }

    private void iow(int index, int value) {
        script.add(new MmioWrite(IOAPIC, index));
        script.add(new MmioWrite(IOAPIC + 0x10, value));
    }

    private void ior(int index) {
        script.add(new MmioWrite(IOAPIC, index));
        script.add(new MmioRead(IOAPIC + 0x10));
    }

    private void out(int port, int value) { script.add(new PortWrite(port, value)); }

    private void in(int port) { in(port, 0xFF); }

    private void in(int port, int mask) { script.add(new PortRead(port, mask)); }

    private void picRegisters() {
        out(0x20, 0x0A);
        in(0x20);
        out(0x20, 0x0B);
        in(0x20);
        out(0xA0, 0x0A);
        in(0xA0);
        out(0xA0, 0x0B);
        in(0xA0);
        in(0x21);
        in(0xA1);
    }

    private void buildScript() {
        int[] registers = {0x20, 0x30, 0x80, 0x90, 0xA0, 0xD0, 0xE0, 0xF0, 0x280, 0x300, 0x310,
            0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3E0};
        // LAPIC after reset, including the vector registers and offsets with nothing behind them.
        for (int r : registers) lr(r);
        for (int r = 0x100; r < 0x280; r += 0x10) lr(r);
        for (int r : new int[] {0x00, 0x10, 0x40, 0x50, 0x60, 0x70, 0xB0, 0xC0, 0x2F0, 0x3F0}) lr(r);
        // SVR and LVT writable bits (with the APIC software-enabled so masks may clear).
        lw(0xF0, 0xFFFF_FFFF);
        lr(0xF0);
        lw(0xF0, 0x1FF);
        for (int r = 0x320; r <= 0x370; r += 0x10) {
            lw(r, 0xFFFF_FFFF);
            lr(r);
            lw(r, 0);
            lr(r);
            lw(r, 0x10000);
        }
        // Software disable masks every LVT, and the mask sticks while disabled.
        lw(0x350, 0x700);
        lw(0xF0, 0xFF);
        lr(0x350);
        lw(0x350, 0x700);
        lr(0x350);
        lw(0xF0, 0x1FF);
        lw(0x350, 0x10700);
        // TPR, PPR, LDR, DFR, ICR high, DCR, ID.
        lw(0x80, 0xFFFF_FFFF);
        lr(0x80);
        lr(0xA0);
        lw(0x80, 0x40);
        lr(0xA0);
        lw(0x80, 0);
        lw(0xD0, 0xFFFF_FFFF);
        lr(0xD0);
        lw(0xD0, 0);
        lw(0xE0, 0);
        lr(0xE0);
        lw(0xE0, 0xFFFF_FFFF);
        lr(0xE0);
        lw(0x310, 0xFFFF_FFFF);
        lr(0x310);
        lw(0x310, 0);
        lw(0x3E0, 0xFFFF_FFFF);
        lr(0x3E0);
        lw(0x3E0, 0);
        lw(0x20, 0x0500_0000);
        lr(0x20);
        lw(0x20, 0);
        lr(0x20);
        // Self-IPIs with IF=0: they wait in IRR (and TMR for the level one).
        lw(0x300, (1 << 18) | 0x31);
        lw(0x300, (1 << 18) | 0x52);
        lw(0x300, (1 << 18) | 0x45);
        lw(0x300, (1 << 18) | (1 << 15) | (1 << 14) | 0x66);
        lr(0x300);
        for (int r = 0x100; r < 0x280; r += 0x10) lr(r);
        lr(0xA0);
        lw(0x280, 0);
        lr(0x280);
        lw(0xB0, 0);  // EOI with nothing in service
        for (int r = 0x100; r < 0x180; r += 0x10) lr(r);

        // I/O APIC registers.
        for (int index = 0; index < 0x40; index++) ior(index);
        iow(0, 0xFFFF_FFFF);
        ior(0);
        ior(2);
        iow(0, 0);
        iow(1, 0);
        ior(1);
        for (int pin = 0; pin < 24; pin += 7) {
            iow(0x10 + 2 * pin, 0xFFFF_FFFF);
            iow(0x11 + 2 * pin, 0xFFFF_FFFF);
            ior(0x10 + 2 * pin);
            ior(0x11 + 2 * pin);
            iow(0x10 + 2 * pin, 0x10000);
            iow(0x11 + 2 * pin, 0);
        }
        script.add(new MmioWrite(IOAPIC, 0x1234_5678));
        script.add(new MmioRead(IOAPIC));

        // The 8259 pair initialised as Linux does, only IRQ 4 unmasked; ELCR.
        out(0x20, 0x11);
        out(0x21, 0x20);
        out(0x21, 0x04);
        out(0x21, 0x01);
        out(0xA0, 0x11);
        out(0xA1, 0x28);
        out(0xA1, 0x02);
        out(0xA1, 0x01);
        out(0x21, 0xEF);
        out(0xA1, 0xFF);
        picRegisters();
        in(0x4D0);
        in(0x4D1);
        out(0x4D0, 0xFF);
        out(0x4D1, 0xFF);
        in(0x4D0);
        in(0x4D1);
        out(0x4D0, 0);
        out(0x4D1, 0);

        // COM1's interrupt, level-triggered on I/O APIC pin 4 to the BSP, and edge on the 8259.
        iow(0x19, 0);
        iow(0x18, 0x8034);
        out(Serial16550.COM1_BASE + 1, 0x02);
        ior(0x18);
        lr(0x210);
        lr(0x190);
        picRegisters();
        out(0x20, 0x0C);   // poll: takes IRQ 4 from the 8259
        in(0x20);
        picRegisters();
        out(0x20, 0x0C);   // poll with nothing pending
        in(0x20);
        out(0x20, 0x20);
        picRegisters();
        out(Serial16550.COM1_BASE + 1, 0x00);
        ior(0x18);
        script.add(new MmioWrite(IOAPIC + 0x40, 0x34));  // the I/O APIC's EOI register
        ior(0x18);
        out(Serial16550.COM1_BASE + 1, 0x02);
        ior(0x18);
        iow(0x18, 0x0034);  // rewritten as edge: remote IRR clears
        ior(0x18);
        out(Serial16550.COM1_BASE + 1, 0x00);
        iow(0x18, 0x10000);
        // Initialisation again with IRQ 4 in service: what ICW1 keeps.
        out(Serial16550.COM1_BASE + 1, 0x02);
        out(0x20, 0x0B);
        out(0x20, 0x11);
        picRegisters();
        out(0x21, 0x30);
        out(0x21, 0x04);
        out(0x21, 0x03);   // auto-EOI
        out(0x21, 0xEF);
        picRegisters();
        out(0x20, 0x0C);
        in(0x20);
        out(Serial16550.COM1_BASE + 1, 0x00);
        picRegisters();
        out(0x20, 0x11);   // ICW1 without ICW4: auto-EOI off
        out(0x21, 0x20);
        out(0x21, 0x04);
        out(0x21, 0xEF);
        picRegisters();

        // The 8254: status and access modes of channels 0 and 2, port 0x61.
        // Port 0x61 bit 5 is OUT2; until channel 2 is programmed it runs KVM's reset square wave
        // (65536 clocks) from VM creation: time-dependent, so masked with the refresh bit.
        in(0x61, 0xCF);
        for (int channel : new int[] {0, 2}) {
            for (int mode = 0; mode <= 5; mode++) {
                for (int rw = 1; rw <= 3; rw++) {
                    out(0x61, channel == 2 ? 0x01 : 0x00);
                    out(0x43, (channel << 6) | (rw << 4) | (mode << 1));
                    if (rw != 2) out(0x40 + channel, 0x34);
                    if (rw != 1) out(0x40 + channel, 0x12);
                    out(0x43, 0xE0 | (2 << channel));  // read-back: status only
                    // OUT is compared only where it cannot change within milliseconds of the load
                    // (count 0x1200 or 0x1234, not 0x34): KVM's PIT counts in real time.
                    boolean outStable = (mode == 0 || mode == 1 || mode == 3) && rw != 1;
                    in(0x40 + channel, outStable ? 0xFF : 0x7F);
                    in(0x61, outStable && channel == 2 ? 0xEF : 0xCF);
                }
            }
        }
        out(0x43, 0x30);  // channel 0 back to a one-shot that never fires within the test
        out(0x40, 0xFF);
        out(0x40, 0xFF);
    }

    private void mw(int msr, long value) { script.add(new MsrWrite(msr, value)); }

    private void mr(int msr) { script.add(new MsrRead(msr)); }

    /** The x2APIC MSR interface (SDM §10.12) after the switch through IA32_APIC_BASE, and the TSC-deadline MSR. */
    private void buildX2apicScript() {
        mr(IA32_APIC_BASE);
        mr(0x6E0);
        mw(0x6E0, 12345);   // ignored outside TSC-deadline mode
        mr(0x6E0);
        mw(IA32_APIC_BASE, 0xFEE0_0000L | LocalApic.BASE_EN | LocalApic.BASE_EXTD | LocalApic.BASE_BSP);
        mr(IA32_APIC_BASE);
        int[] readable = {0x802, 0x803, 0x808, 0x80A, 0x80D, 0x80F, 0x828, 0x830, 0x832, 0x833, 0x834,
            0x835, 0x836, 0x837, 0x838, 0x83E};
        for (int msr : readable) mr(msr);
        for (int msr = 0x810; msr <= 0x827; msr++) mr(msr);
        mw(0x80F, 0x1FF);
        mr(0x80F);
        mw(0x808, 0x20);
        mr(0x808);
        mr(0x80A);
        mw(0x83F, 0x45);                              // SELF IPI
        mw(0x830, 0x56);                              // fixed, physical, to x2APIC ID 0 (this CPU)
        mw(0x830, (1 << 18) | (1 << 15) | (1 << 14) | 0x66);  // level self-IPI
        mr(0x830);
        for (int msr = 0x810; msr <= 0x827; msr++) mr(msr);
        mr(0x80A);
        mw(0x828, 0);
        mr(0x828);
        for (int msr = 0x832; msr <= 0x837; msr++) {
            mw(msr, 0xFFFF_FFFFL);
            mr(msr);
            mw(msr, 0x10000);
        }
        mw(0x83E, 0xFFFF_FFFFL);
        mr(0x83E);
        mw(0x83E, 0);
        mw(0x838, 0x12345);                           // masked one-shot: initial count reads back
        mr(0x838);
        mw(0x838, 0);
        mw(0x832, 0x40000 | 0x10000 | 0xEF);          // TSC-deadline mode, masked
        mr(0x6E0);
        mw(0x6E0, 0x7FFF_FFFF_FFFF_FFFFL);            // far in the future
        mr(0x6E0);
        mr(0x838);
        mw(0x832, 0x10000);                           // leaving TSC-deadline mode disarms
        mr(0x6E0);
    }

    /** The script as a guest: values read are stored at BUFFER, then sent over COM1 with the IRQ off. */
    private String guest() {
        StringBuilder s = new StringBuilder("""
                _start:
                    cld
                    mov $0x%x, %%edi
                """.formatted(BUFFER));
        for (Op op : script) {
            switch (op) {
                case MmioWrite w -> s.append("    movl $0x%x, 0x%x\n".formatted(w.value(), w.address()));
                case MmioRead r -> s.append("    mov 0x%x, %%eax\n    stosl\n".formatted(r.address()));
                case PortWrite w -> s.append("    mov $0x%x, %%dx\n    mov $0x%x, %%al\n    out %%al, %%dx\n".formatted(w.port(), w.value()));
                case PortRead r -> s.append("    mov $0x%x, %%dx\n    in %%dx, %%al\n    movzbl %%al, %%eax\n    and $0x%x, %%eax\n    stosl\n"
                        .formatted(r.port(), r.mask()));
                case MsrWrite w -> s.append("    mov $0x%x, %%ecx\n    mov $0x%x, %%eax\n    mov $0x%x, %%edx\n    wrmsr\n"
                        .formatted(w.msr(), (int) w.value(), (int) (w.value() >>> 32)));
                case MsrRead r -> s.append("    mov $0x%x, %%ecx\n    rdmsr\n    stosl\n    mov %%edx, %%eax\n    stosl\n".formatted(r.msr()));
            }
        }
        s.append("""
                    mov $0x3f9, %%dx
                    xor %%al, %%al
                    out %%al, %%dx
                    mov $0x3f8, %%dx
                    mov $0x%x, %%esi
                    mov %%edi, %%ecx
                    sub %%esi, %%ecx
                    rep outsb
                    mov $0x21, %%al
                    out %%al, $0xf4
                1:  hlt
                    jmp 1b
                """.formatted(BUFFER));
        return s.toString();
    }

    /** The script against our models, wired as the emulated backend wires them. */
    private List<Long> ours() {
        FakeClock clock = new FakeClock();
        IrqChip chip = new IrqChip(clock);
        LocalApic bsp = chip.addCpu(0, true, new CpuEvents());
        PortIoBus ports = new PortIoBus();
        chip.registerPorts(ports);
        ports.register(Serial16550.COM1_BASE, Serial16550.PORT_COUNT,
                new Serial16550(chip.lines(), Serial16550.COM1_GSI, new ByteArrayOutputStream()));
        List<Long> values = new ArrayList<>();
        for (Op op : script) {
            switch (op) {
                case MmioWrite w -> {
                    if (w.address() >= LAPIC) bsp.mmioWrite(w.address() - LAPIC, 4, w.value() & 0xFFFF_FFFFL);
                    else chip.ioapic().write(w.address(), 4, w.value() & 0xFFFF_FFFFL);
                }
                case MmioRead r -> values.add(r.address() >= LAPIC
                        ? bsp.mmioRead(r.address() - LAPIC, 4) & 0xFFFF_FFFFL
                        : chip.ioapic().read(r.address(), 4) & 0xFFFF_FFFFL);
                case PortWrite w -> ports.write(w.port(), 1, w.value());
                case PortRead r -> values.add((long) (ports.read(r.port(), 1) & r.mask()));
                case MsrWrite w -> {
                    boolean ok = w.msr() == IA32_APIC_BASE ? bsp.setApicBase(w.value()) : bsp.writeMsr(w.msr(), w.value());
                    if (!ok) throw new AssertionError("our LAPIC refuses WRMSR 0x" + Integer.toHexString(w.msr()) + " (#GP); KVM took it");
                }
                case MsrRead r -> {
                    Long v = r.msr() == IA32_APIC_BASE ? Long.valueOf(bsp.apicBase()) : bsp.readMsr(r.msr());
                    if (v == null) throw new AssertionError("our LAPIC refuses RDMSR 0x" + Integer.toHexString(r.msr()) + " (#GP); KVM took it");
                    values.add(v & 0xFFFF_FFFFL);
                    values.add(v >>> 32);
                }
            }
        }
        return values;
    }

    private List<Long> kvm() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunningVm run = VirtualMachine.builder().cpus(1).memory(16 << 20).kernel(GnuToolchain.multibootElf(guest()))
                .console(console).timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + outcome.crashReport());
        }
        ByteBuffer bytes = ByteBuffer.wrap(console.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        List<Long> values = new ArrayList<>();
        while (bytes.remaining() >= 4) values.add(bytes.getInt() & 0xFFFF_FFFFL);
        return values;
    }

    @Test
    void x2apicMsrsAgreeWithKvm() throws Exception {
        File kvm = new File("/dev/kvm");
        assumeTrue(kvm.canRead() && kvm.canWrite(), "no usable /dev/kvm");
        buildX2apicScript();
        List<Long> expected = kvm();
        List<Long> actual = ours();
        assertEquals(String.join("\n", describe(expected)), String.join("\n", describe(actual)));
    }

    @Test
    void lapicIoapicPicPitAgreeWithKvm() throws Exception {
        File kvm = new File("/dev/kvm");
        assumeTrue(kvm.canRead() && kvm.canWrite(), "no usable /dev/kvm");
        buildScript();
        List<Long> expected = kvm();
        List<Long> actual = ours();
        List<String> a = describe(expected), b = describe(actual);
        assertEquals(String.join("\n", a), String.join("\n", b));
    }

    /** Each value next to the operation that read it, so a mismatch names the register. */
    private List<String> describe(List<Long> values) {
        List<String> lines = new ArrayList<>();
        int i = 0;
        long ioregsel = 0;
        for (Op op : script) {
            if (op instanceof MmioWrite w && w.address() == IOAPIC) ioregsel = w.value();
            String what = switch (op) {
                case MmioRead r when r.address() >= LAPIC -> "lapic " + Long.toHexString(r.address() - LAPIC);
                case MmioRead r when r.address() == IOAPIC -> "ioapic IOREGSEL";
                case MmioRead r -> "ioapic register " + Long.toHexString(ioregsel);
                case PortRead r -> "port " + Integer.toHexString(r.port());
                case MsrRead r -> "msr " + Integer.toHexString(r.msr());
                default -> null;
            };
            if (what == null) continue;
            int n = op instanceof MsrRead ? 2 : 1;
            for (int k = 0; k < n; k++) {
                lines.add("#" + i + " " + what + (n == 2 ? (k == 0 ? " low" : " high") : "") + " = "
                        + (i < values.size() ? Long.toHexString(values.get(i)) : "missing"));
                i++;
            }
        }
        return lines;
    }
}
