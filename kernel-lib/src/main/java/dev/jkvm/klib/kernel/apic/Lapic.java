package dev.jkvm.klib.kernel.apic;

import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Msr;

/**
 * The local APIC (Intel SDM Vol. 3A chapter 11) in xAPIC mode (registers in the 4 KiB MMIO page
 * at the APIC base) or x2APIC mode (register at offset r is MSR 0x800 + r / 16, 11.12.1), chosen
 * once from CPUID.1:ECX[21]. Every IPI is bracketed by ESR checks (11.5.3): the error register is
 * cleared when the APIC is enabled and after every IPI, and latched and read after each ICR
 * write, so the errors read after an IPI are those since the previous one. One latch per IPI,
 * not a clear before and a read after, because each APIC register access is an emulated MSR or
 * MMIO access here, the costliest step of an IPI (see SelfTestSuite's storm figures).
 */
public final class Lapic {
    private Lapic() {
    }

    public static final int ID = 0x20;
    public static final int VERSION = 0x30;
    public static final int TPR = 0x80;
    public static final int EOI = 0xB0;
    public static final int SVR = 0xF0;
    public static final int ESR = 0x280;
    public static final int ICR_LOW = 0x300;
    public static final int ICR_HIGH = 0x310;
    public static final int LVT_TIMER = 0x320;
    public static final int LVT_LINT0 = 0x350;
    public static final int LVT_LINT1 = 0x360;
    public static final int LVT_ERROR = 0x370;
    public static final int TIMER_INITIAL = 0x380;
    public static final int TIMER_CURRENT = 0x390;
    public static final int TIMER_DIVIDE = 0x3E0;

    private static final int IA32_APIC_BASE = 0x1B;
    private static final long APIC_GLOBAL_ENABLE = 1 << 11;
    private static final long APIC_X2APIC_ENABLE = 1 << 10;
    private static final int X2APIC_MSR_BASE = 0x800;
    private static final int X2APIC_ICR = 0x830;
    private static final int SVR_SOFTWARE_ENABLE = 1 << 8;
    public static final int LVT_MASKED = 1 << 16;
    private static final int DELIVERY_PENDING = 1 << 12;
    /** ICR delivery modes and flags (11.6.1). */
    public static final int FIXED = 0;
    public static final int NMI = 4 << 8;
    public static final int INIT = 5 << 8;
    public static final int STARTUP = 6 << 8;
    public static final int ASSERT = 1 << 14;
    /** ICR destination shorthand 11b (11.6.1): every local APIC but the sender's. */
    public static final int ALL_EXCLUDING_SELF = 3 << 18;

    private static boolean x2apic;
    private static long base = 0xFEE00000L;
    private static int ipiErrorCount;
    private static int lastErrorBits;

    public static void chooseMode(boolean useX2apic, long mmioBase) {
        x2apic = useX2apic;
        base = mmioBase;
    }

    public static boolean isX2apic() {
        return x2apic;
    }

    public static int read(int register) {
        if (x2apic) {
            return (int) Msr.read(X2APIC_MSR_BASE + (register >>> 4));
        }
        return Memory.load32(base + register);
    }

    public static void write(int register, int value) {
        if (x2apic) {
            Msr.write(X2APIC_MSR_BASE + (register >>> 4), value & 0xFFFFFFFFL);
        } else {
            Memory.store32(base + register, value);
        }
    }

    /**
     * Enables this CPU's local APIC in the chosen mode: globally (IA32_APIC_BASE, 11.4.4), then in
     * software with the spurious vector (11.9); LINT0/LINT1 and the error LVT masked, TPR 0.
     */
    public static void enable(int spuriousVector) {
        long apicBase = Msr.read(IA32_APIC_BASE) | APIC_GLOBAL_ENABLE;
        Msr.write(IA32_APIC_BASE, apicBase);
        if (x2apic) {
            Msr.write(IA32_APIC_BASE, apicBase | APIC_X2APIC_ENABLE);
        }
        write(TPR, 0);
        write(LVT_LINT0, LVT_MASKED);
        write(LVT_LINT1, LVT_MASKED);
        write(LVT_ERROR, LVT_MASKED);
        write(SVR, SVR_SOFTWARE_ENABLE | spuriousVector);
        clearErrors();
    }

    public static int id() {
        int id = read(ID);
        return x2apic ? id : id >>> 24;
    }

    public static void eoi() {
        write(EOI, 0);
    }

    /** ESR is a write-then-read register: the write latches the errors seen so far. */
    private static int clearErrors() {
        write(ESR, 0);
        return read(ESR);
    }

    /**
     * Sends an IPI (ICR low bits: vector, delivery mode, level) to one APIC ID.
     *
     * With interrupts off throughout, restored after: in xAPIC mode the destination (ICR high)
     * and the command (ICR low, whose write sends, 11.6.1) are two writes, and an interrupt
     * handler that sends an IPI of its own between them (the scheduler tick wakes sleepers and
     * kicks idle CPUs) leaves its destination in ICR high, so the interrupted IPI went to the
     * handler's target and its own was lost; Linux's xAPIC senders mask interrupts for the same
     * reason. In either mode the ESR latch after the write must see this IPI's errors only.
     */
    public static boolean sendIpi(int apicId, int command) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        boolean sent = sendWithInterruptsOff(apicId, command);
        if (interrupts) {
            Cpu.sti();
        }
        return sent;
    }

    private static boolean sendWithInterruptsOff(int apicId, int command) {
        if (x2apic) {
            Msr.write(X2APIC_ICR, ((long) apicId << 32) | (command & 0xFFFFFFFFL));
        } else {
            write(ICR_HIGH, apicId << 24);
            write(ICR_LOW, command);
            for (int i = 0; i < 100000 && (read(ICR_LOW) & DELIVERY_PENDING) != 0; i++) {
                Cpu.pause();
            }
        }
        int errors = clearErrors();
        if (errors != 0) {
            ipiErrorCount++;
            lastErrorBits = errors;
            return false;
        }
        return true;
    }

    /**
     * Sends one IPI to every other local APIC with the ICR's destination shorthand: a single ICR
     * write however many CPUs there are. Only for when every other CPU is a wanted target.
     */
    public static boolean sendIpiToAllOthers(int command) {
        return sendIpi(0, command | ALL_EXCLUDING_SELF);
    }

    public static int ipiErrors() {
        return ipiErrorCount;
    }

    public static int lastError() {
        return lastErrorBits;
    }
}
