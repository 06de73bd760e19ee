package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.Features;
import dev.jkvm.klib.kernel.cpu.Gdt;
import dev.jkvm.klib.kernel.cpu.Idt;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.SystemCallMsrs;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.time.PitCalibration;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * Brings the application processors up with the INIT-SIPI-SIPI sequence of the Intel MP
 * initialisation protocol (Intel SDM Vol. 3A 9.4.4.1: INIT, 10 ms, SIPI, 200 µs, SIPI), in
 * parallel as Linux does since 6.5: INIT goes to every AP, the 10 ms wait is paid once, then every
 * AP gets its SIPI and all of them run the trampoline at the same time, each finding its CPU index
 * and stack by its own APIC ID (TrampolineParameters) and recording its stage in its own byte.
 * The BSP waits, with one dead-AP timeout for all, until each has left the trampoline, then for
 * all of them to report READY, and finally releases them into their idle loop. Waiting APs sit in
 * HLT, not in a pause loop: under a software CPU (QEMU TCG) or on a host with fewer cores than
 * vCPUs, spinning APs take the host CPU time the BSP needs, which made bring-up time grow with
 * the square of the CPU count. The release wakes them with one broadcast IPI (Vectors.WAKE).
 * An AP that does not leave the trampoline, or not reach READY, in time is reported with its last
 * BootStage, parked again with INIT and left offline; the boot goes on without it.
 */
public final class ApStartup {
    private ApStartup() {
    }

    public static final long INIT_DELAY_US = 10000;
    public static final long SIPI_DELAY_US = 200;
    /** Generous: on a KVM that emulates ring 0 (kvm_pvm) the trampoline runs emulated, and vCPUs may be time-shared. */
    public static final long TRAMPOLINE_TIMEOUT_US = 5000000;
    /**
     * Added to the trampoline timeout per AP: all APs start at once, and where their vCPUs are
     * time-shared (255 QEMU TCG vCPUs on a 2-core host under load) the last one may first run
     * seconds later; a fixed 5 s left one of 255 "dead" on a loaded host.
     */
    public static final long TRAMPOLINE_TIMEOUT_PER_AP_US = 40000;
    public static final long READY_TIMEOUT_US = 10000000;
    /** The ready timeout when a test makes an AP hang on purpose (nothing to wait for). */
    public static final long TEST_READY_TIMEOUT_US = 1000000;
    /** How often the boot CPU wakes up to look at the APs while it waits for them. */
    public static final long WAIT_TICK_US = 500;
    private static final int LVT_PERIODIC = 1 << 17;
    private static final long CR4_PAE = 1 << 5;

    private static long gdt;
    private static long idt;
    private static int bspFeatures;
    private static int startedCount;
    private static int timedOutCount;
    private static boolean hangFirstAp;

    /** Test hook ("test=hang"): the first AP stops after loading its GDT and IDT, never ready. */
    public static void hangFirstApForTest() {
        hangFirstAp = true;
    }

    public static void shareTables(long gdtAddress, long idtAddress, int features) {
        gdt = gdtAddress;
        idt = idtAddress;
        bspFeatures = features;
    }

    /** Starts every enabled AP of the topology list (cpu 0 is the BSP); returns how many are online. */
    public static int startAll(int cpuCount, long enabledMask) {
        long trampoline = TrampolineParameters.ADDRESS;
        Asm.call("kernel_memcpy", trampoline, KernelLayout.get(KernelLayout.TRAMPOLINE),
                KernelLayout.get(KernelLayout.TRAMPOLINE_SIZE));
        Memory.store64(trampoline + TrampolineParameters.CR3, PageTables.root());
        Memory.store64(trampoline + TrampolineParameters.CR4, CR4_PAE);
        Memory.store64(trampoline + TrampolineParameters.EFER,
                (long) (Efer.LME | (PageTables.noExecuteBit() != 0 ? Efer.NXE : 0)));
        Memory.store64(trampoline + TrampolineParameters.ENTRY, KernelLayout.get(KernelLayout.AP_ENTRY));
        shareCpuTables(cpuCount, enabledMask);
        // INIT to every AP, one wait for all of them, then the SIPIs (SDM Vol. 3A 9.4.4.1).
        for (int cpu = 1; cpu < cpuCount; cpu++) {
            if (CpuMask.contains(enabledMask, cpu)) {
                SmpState.setStage(cpu, BootStage.NONE);
                Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.INIT | Lapic.ASSERT);
            }
        }
        Delay.micros(INIT_DELAY_US);
        for (int cpu = 1; cpu < cpuCount; cpu++) {
            if (CpuMask.contains(enabledMask, cpu)) {
                Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.STARTUP | Lapic.ASSERT | TrampolineParameters.SIPI_VECTOR);
            }
        }
        Delay.micros(SIPI_DELAY_US);
        // The second SIPI of the protocol, to each AP that has not written a stage yet.
        for (int cpu = 1; cpu < cpuCount; cpu++) {
            if (CpuMask.contains(enabledMask, cpu) && trampolineStage(cpu) == BootStage.NONE
                    && SmpState.stage(cpu) < BootStage.STACK) {
                Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.STARTUP | Lapic.ASSERT | TrampolineParameters.SIPI_VECTOR);
            }
        }
        // Every AP leaves the trampoline on its own; the dead-AP timeout is one for all of them.
        startWaitTicks();
        long deadline = Delay.deadline(TRAMPOLINE_TIMEOUT_US + (cpuCount - 1) * TRAMPOLINE_TIMEOUT_PER_AP_US);
        for (int cpu = 1; cpu < cpuCount; cpu++) {
            if (!CpuMask.contains(enabledMask, cpu)) {
                continue;
            }
            while (SmpState.stage(cpu) < BootStage.STACK && trampolineStage(cpu) < BootStage.STACK
                    && !Delay.passed(deadline)) {
                waitTick();
            }
            if (SmpState.stage(cpu) < BootStage.STACK && trampolineStage(cpu) < BootStage.STACK) {
                int stage = trampolineStage(cpu);
                SmpState.setStage(cpu, stage);
                Memory.store32(SmpState.record(cpu) + SmpState.TRAMPOLINE_TIMED_OUT, 1);
                offline(cpu, stage, true);
            } else {
                // The AP records its own stages from here on (it may already be further than STACK).
                startedCount++;
            }
        }
        deadline = Delay.deadline(hangFirstAp ? TEST_READY_TIMEOUT_US : READY_TIMEOUT_US);
        while (SmpState.readyCount() < startedCount && !Delay.passed(deadline)) {
            waitTick();
        }
        stopWaitTicks();
        int online = 1;
        for (int cpu = 1; cpu < cpuCount; cpu++) {
            if (!CpuMask.contains(enabledMask, cpu) || !startedInTime(cpu)) {
                continue;
            }
            if (SmpState.stage(cpu) >= BootStage.READY) {
                CpuMask.set(CpuRecord.onlineMask(), cpu);
                online++;
            } else {
                int stage = SmpState.stage(cpu);
                // It left the trampoline, so it got at least that far even if it never wrote since.
                offline(cpu, stage < BootStage.STACK ? BootStage.STACK : stage, false);
            }
        }
        // Every AP that got this far runs on the kernel's GDT and stack: the trampoline may go.
        Asm.call("kernel_memzero", trampoline, 4096);
        SmpState.release();
        // One ICR write ends every waiting AP's HLT; APs that are offline (INIT again) ignore it.
        Lapic.sendIpiToAllOthers(Lapic.FIXED | Lapic.ASSERT | Vectors.WAKE);
        return online;
    }

    /**
     * The tables the trampoline looks each AP up in: CPU index + 1 by APIC ID (up to the highest
     * APIC ID of an enabled CPU), and the boot stack top by CPU index.
     */
    private static void shareCpuTables(int cpuCount, long enabledMask) {
        int limit = 0;
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (CpuMask.contains(enabledMask, cpu) && CpuRecord.apicId(cpu) >= limit) {
                limit = CpuRecord.apicId(cpu) + 1;
            }
        }
        long apicTable = BootAllocator.allocate(limit * 4L, 8);
        long stackTable = BootAllocator.allocate(cpuCount * 8L, 8);
        MemoryBlock.zero(apicTable, limit * 4L);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            Memory.store64(stackTable + cpu * 8L, CpuRecord.stackTop(cpu));
            if (cpu != 0 && CpuMask.contains(enabledMask, cpu)) {
                Memory.store32(apicTable + CpuRecord.apicId(cpu) * 4L, cpu + 1);
            }
        }
        long trampoline = TrampolineParameters.ADDRESS;
        Memory.store64(trampoline + TrampolineParameters.APIC_TABLE, apicTable);
        Memory.store64(trampoline + TrampolineParameters.STACK_TABLE, stackTable);
        Memory.store32(trampoline + TrampolineParameters.APIC_LIMIT, limit);
    }

    /**
     * The boot CPU waits for the APs in HLT too, woken every WAIT_TICK_US by its local APIC timer
     * in periodic mode (LVT timer bits 17-18 = 01b, Intel SDM Vol. 3A 11.5.1) on the WAKE vector,
     * whose handler only acknowledges it. A pause loop there kept one host CPU busy for the whole
     * bring-up: under QEMU TCG on a 2-core host that was half the CPU time the APs needed to start.
     */
    private static void startWaitTicks() {
        long ticks = PitCalibration.lapicTicksPerMs() * WAIT_TICK_US / 1000;
        Lapic.write(Lapic.LVT_TIMER, LVT_PERIODIC | Vectors.WAKE);
        Lapic.write(Lapic.TIMER_INITIAL, (int) (ticks > 0 && ticks < Integer.MAX_VALUE ? ticks : 100000));
    }

    private static void stopWaitTicks() {
        Lapic.write(Lapic.LVT_TIMER, Lapic.LVT_MASKED | Vectors.WAKE);
        Lapic.write(Lapic.TIMER_INITIAL, 0);
    }

    /** Sleeps until the next interrupt (the wait tick at the latest); returns with interrupts on. */
    private static void waitTick() {
        Asm.call("kernel_wait_for_interrupt");
    }

    /** The stage the AP wrote in the trampoline, from its byte (shared above STAGE_SLOTS - 2). */
    private static int trampolineStage(int cpu) {
        int slot = CpuRecord.apicId(cpu);
        if (slot > TrampolineParameters.STAGE_SLOTS - 1) {
            slot = TrampolineParameters.STAGE_SLOTS - 1;
        }
        return Memory.load8(TrampolineParameters.ADDRESS + TrampolineParameters.STAGES + slot) & 0xFF;
    }

    /** Whether the AP left the trampoline before its timeout (offline ones were marked then). */
    private static boolean startedInTime(int cpu) {
        return Memory.load32(SmpState.record(cpu) + SmpState.TRAMPOLINE_TIMED_OUT) == 0;
    }

    private static void offline(int cpu, int stage, boolean inTrampoline) {
        timedOutCount++;
        // INIT puts the AP back into wait-for-SIPI, so it cannot wake up later on stale state.
        Lapic.sendIpi(CpuRecord.apicId(cpu), Lapic.INIT | Lapic.ASSERT);
        Console.print("smp: cpu ");
        Log.dec(cpu);
        Console.print(" (apic ");
        Log.dec(CpuRecord.apicId(cpu));
        if (inTrampoline) {
            Console.print(") did not leave the trampoline; last stage ");
        } else {
            Console.print(") did not reach ready; last stage ");
        }
        BootStage.print(stage);
        Console.print(": left offline\n");
    }

    public static int timedOut() {
        return timedOutCount;
    }

    /**
     * The AP side of bring-up, entered (through Kernel.apMain) from the trampoline with the AP's
     * own stack: returns once the boot CPU released the APs, with interrupts off.
     */
    public static void bringUp(int cpu) {
        long record = SmpState.record(cpu);
        PerCpuArea.install(CpuRecord.area(cpu));
        SmpState.setStage(cpu, BootStage.STACK);
        Gdt.load(gdt, CpuRecord.count(), cpu);
        Idt.load(idt);
        SmpState.setStage(cpu, BootStage.GDT_IDT);
        // Interrupts are still off (the trampoline's CLI): HLT holds the AP until the BSP's INIT.
        while (hangFirstAp && cpu == 1) {
            Cpu.hlt();
        }
        int features = Features.detect();
        Memory.store32(record + SmpState.FEATURES, features);
        Memory.store32(record + SmpState.PROTECTIONS, Features.enableProtections(features & bspFeatures));
        SystemCallMsrs.enable(KernelLayout.get(KernelLayout.SYSCALL_ENTRY));
        SmpState.setStage(cpu, BootStage.PER_CPU);
        Lapic.enable(Vectors.SPURIOUS);
        Memory.store32(record + SmpState.PER_CPU_CHECK, PerCpuArea.check(Lapic.id()));
        SmpState.setStage(cpu, BootStage.LAPIC);
        SmpState.setStage(cpu, BootStage.READY);
        SmpState.noteReady();
        // Interrupts are off from the check to the HLT (STI's one-instruction shadow covers the
        // HLT), so the WAKE sent right after the release cannot be slept through.
        Cpu.cli();
        while (!SmpState.released()) {
            Asm.call("kernel_wait_for_interrupt");
            Cpu.cli();
        }
        SmpState.setStage(cpu, BootStage.IDLE);
    }
}
