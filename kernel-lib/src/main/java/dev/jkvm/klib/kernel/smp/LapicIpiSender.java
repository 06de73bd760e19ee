package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.apic.Lapic;

/** The kernel's IpiSend bindings (klib_ipi_send, klib_ipi_send_all_others): CPU index to APIC ID, fixed delivery. */
public final class LapicIpiSender {
    private LapicIpiSender() {
    }

    private static int failedSends;

    public static void send(int targetCpu, int vector) {
        if (!Lapic.sendIpi(CpuRecord.apicId(targetCpu), Lapic.FIXED | Lapic.ASSERT | (vector & 0xFF))) {
            failedSends++;
        }
    }

    public static void sendToAllOthers(int vector) {
        if (!Lapic.sendIpiToAllOthers(Lapic.FIXED | Lapic.ASSERT | (vector & 0xFF))) {
            failedSends++;
        }
    }

    public static int failures() {
        return failedSends;
    }
}
