package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;

/**
 * Sends one fixed-vector IPI. The bookkeeping here never touches the local APIC itself: the
 * kernel binds SYMBOL to its sender (rdi = target CPU id, rsi = vector; it maps the CPU id to an
 * APIC id and writes ICR, Intel SDM Vol. 3A 11.6.1), and a host test binds it with
 * Asm.hostDefine to record the call or to deliver the interrupt to a simulated CPU.
 */
public final class IpiSend {
    private IpiSend() {
    }

    public static final String SYMBOL = "klib_ipi_send";
    /** The broadcast sender (rdi = vector): one IPI to every CPU but the caller. */
    public static final String ALL_OTHERS_SYMBOL = "klib_ipi_send_all_others";

    public static void send(int targetCpu, int vector) {
        Asm.call(SYMBOL, targetCpu, vector);
    }

    public static void sendToAllOthers(int vector) {
        Asm.call(ALL_OTHERS_SYMBOL, vector);
    }
}
