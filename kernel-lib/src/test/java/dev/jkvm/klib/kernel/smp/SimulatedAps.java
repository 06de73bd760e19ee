package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.rt.Memory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Application processors as the boot CPU sees them during ApStartup.startAll on the host: each
 * reacts to the x2APIC ICR writes (MSR 0x830, Intel SDM Vol. 3A 11.12.9) the way the MP
 * initialisation protocol says (Vol. 3A 9.4.4.1: INIT puts it in wait-for-SIPI, a STARTUP IPI with
 * the trampoline's page number starts it there, a SIPI outside wait-for-SIPI is ignored), and then
 * does what ApTrampoline's code does with the parameter block: writes its BootStage byte (slot by
 * APIC ID, the last slot shared above STAGE_SLOTS - 1), finds its CPU index + 1 in the APIC table
 * below APIC_LIMIT (an unknown APIC ID halts it in LONG), its stack in the stack table, and
 * leaves with STACK in its byte; after that it records its kernel stages in SmpState as
 * ApStartup.bringUp does. How far each AP gets, and after how many of the boot CPU's wait ticks,
 * is the test's choice: that is how a dead or slow AP is made.
 */
final class SimulatedAps {
    static final int X2APIC_ICR = 0x830;

    /** One AP and its scenario. */
    static final class Ap {
        final int cpu;
        final int apicId;
        /** SIPIs that do not start it (the second SIPI of the protocol is for such an AP). */
        int sipisToIgnore;
        /** The last trampoline stage it writes: REAL..LONG stops it there, STACK lets it leave. */
        int trampolineStage = BootStage.STACK;
        /** The last kernel stage it records once it left (NONE: it leaves but records nothing). */
        int kernelStage = BootStage.READY;
        /** Wait ticks of the boot CPU after its SIPI before it leaves the trampoline. */
        int ticksToLeave;
        /** Further wait ticks before it records its kernel stages. */
        int ticksToReady;

        boolean waitingForSipi;
        boolean running;
        boolean left;
        boolean kernelDone;
        /** What the trampoline found for it: its CPU index (-1 before), stack, and the block. */
        int foundCpu = -1;
        long foundStack;
        long cr3;
        long cr4;
        long efer;
        long entry;

        Ap(int cpu, int apicId) {
            this.cpu = cpu;
            this.apicId = apicId;
        }
    }

    private final Map<Integer, Ap> byApicId = new LinkedHashMap<>();
    /** Every ICR write, in order: "init A", "sipi A vector V", "all-but-self vector V". */
    final List<String> icr = new ArrayList<>();
    int waitTicks;

    Ap add(int cpu, int apicId) {
        Ap ap = new Ap(cpu, apicId);
        byApicId.put(apicId, ap);
        return ap;
    }

    /** The Msr write observer: only the ICR matters here. */
    void msrWritten(int msr, long value) {
        if (msr != X2APIC_ICR) {
            return;
        }
        int low = (int) value;
        int apicId = (int) (value >>> 32);
        int mode = low >>> 8 & 7;
        int vector = low & 0xFF;
        if ((low >>> 18 & 3) == 3) {
            icr.add("all-but-self mode " + mode + " vector " + Integer.toHexString(vector));
            return;
        }
        Ap ap = byApicId.get(apicId);
        switch (mode) {
            case 5 -> {
                icr.add("init " + apicId);
                if (ap != null) {
                    ap.waitingForSipi = true;
                    ap.running = false;
                }
            }
            case 6 -> {
                icr.add("sipi " + apicId + " vector " + Integer.toHexString(vector));
                if (ap != null && ap.waitingForSipi && vector == TrampolineParameters.SIPI_VECTOR) {
                    if (ap.sipisToIgnore > 0) {
                        ap.sipisToIgnore--;
                    } else {
                        ap.waitingForSipi = false;
                        ap.running = true;
                        runTrampoline(ap);
                        step(ap);
                    }
                }
            }
            default -> icr.add("mode " + mode + " to " + apicId + " vector " + Integer.toHexString(vector));
        }
    }

    /** kernel_wait_for_interrupt on the boot CPU: one wait tick passes for every running AP. */
    void waitTick() {
        waitTicks++;
        for (Ap ap : byApicId.values()) {
            if (ap.running) {
                if (!ap.left && ap.ticksToLeave > 0) {
                    ap.ticksToLeave--;
                } else if (ap.left && ap.ticksToReady > 0) {
                    ap.ticksToReady--;
                }
                step(ap);
            }
        }
    }

    private static void runTrampoline(Ap ap) {
        for (int stage = BootStage.REAL; stage <= BootStage.LONG && stage <= ap.trampolineStage; stage++) {
            writeStageByte(ap, stage);
        }
        if (ap.trampolineStage < BootStage.STACK) {
            return;
        }
        long block = TrampolineParameters.ADDRESS;
        ap.cr3 = Memory.load64(block + TrampolineParameters.CR3);
        ap.cr4 = Memory.load64(block + TrampolineParameters.CR4);
        ap.efer = Memory.load64(block + TrampolineParameters.EFER);
        ap.entry = Memory.load64(block + TrampolineParameters.ENTRY);
        long limit = Memory.load32(block + TrampolineParameters.APIC_LIMIT) & 0xFFFFFFFFL;
        if (ap.apicId >= limit) {
            ap.running = false; // ApTrampoline's "unknown": halted in LONG
            return;
        }
        int index = Memory.load32(Memory.load64(block + TrampolineParameters.APIC_TABLE) + ap.apicId * 4L);
        if (index == 0) {
            ap.running = false;
            return;
        }
        ap.foundCpu = index - 1;
        ap.foundStack = Memory.load64(Memory.load64(block + TrampolineParameters.STACK_TABLE) + ap.foundCpu * 8L);
    }

    /** Leaves the trampoline, then records the kernel stages, once the ticks it waits for passed. */
    private static void step(Ap ap) {
        if (!ap.running || ap.foundCpu < 0) {
            return;
        }
        if (!ap.left && ap.ticksToLeave == 0) {
            writeStageByte(ap, BootStage.STACK);
            ap.left = true;
        }
        if (ap.left && !ap.kernelDone && ap.ticksToReady == 0) {
            ap.kernelDone = true;
            for (int stage = BootStage.STACK; stage <= ap.kernelStage; stage++) {
                SmpState.setStage(ap.foundCpu, stage);
            }
            if (ap.kernelStage >= BootStage.READY) {
                SmpState.noteReady();
            }
        }
    }

    private static void writeStageByte(Ap ap, int stage) {
        int slot = Math.min(ap.apicId, TrampolineParameters.STAGE_SLOTS - 1);
        Memory.store8(TrampolineParameters.ADDRESS + TrampolineParameters.STAGES + slot, (byte) stage);
    }
}
