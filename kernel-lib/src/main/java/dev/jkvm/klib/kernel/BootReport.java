package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.acpi.Outcome;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.boot.FwCfg;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.Features;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.MemoryMap;
import dev.jkvm.klib.kernel.selftest.CrossCalls;
import dev.jkvm.klib.kernel.smp.ApStartup;
import dev.jkvm.klib.kernel.smp.BootStage;
import dev.jkvm.klib.kernel.smp.LapicIpiSender;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.time.PitCalibration;
import dev.jkvm.klib.kernel.trap.InterruptCounts;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The lines the boot CPU prints about each step of Kernel.main, one method per step. They live
 * here, at the top, because the console (Log) sits above the layers they describe (mm, acpi,
 * apic, time), which therefore cannot print for themselves.
 */
final class BootReport {
    private BootReport() {
    }

    static void memory(long ramEnd) {
        Console.print("memory: ");
        Log.dec(MemoryMap.availableBytes() >>> 20);
        Console.print(" MiB of RAM");
        if (MemoryMap.fromMap()) {
            Console.print(" (multiboot memory map, ");
            Log.dec(MemoryMap.entries());
            Console.print(" entries)");
        }
        Console.print(", highest address ");
        Log.hex(ramEnd - 1);
        Console.print(", kernel ");
        Log.hex(KernelLayout.get(KernelLayout.IMAGE_START));
        Console.print("-");
        Log.hex(KernelLayout.get(KernelLayout.IMAGE_END));
        Console.print("\n");
    }

    static void features(int features) {
        Console.print("cpu features:");
        Features.print(features);
        Console.print("\n");
    }

    static void topology(long topology, int outcome) {
        Console.print("acpi: ");
        if (outcome == Outcome.SMP) {
            Console.print("MADT trusted");
        } else if (outcome == Outcome.SMP_DEGRADED) {
            Console.print("MADT with defects (worked around)");
        } else {
            Console.print("uniprocessor");
        }
        Console.print(", defects ");
        Log.hex(Topology.defects(topology));
        Console.print(", ");
        Log.dec(Topology.cpuCount(topology));
        Console.print(" cpus (");
        Log.dec(Topology.enabledCpuCount(topology));
        Console.print(" enabled), local apic at ");
        Log.hex(Topology.lapicAddress(topology));
        Console.print("\nacpi: apic ids");
        for (int i = 0; i < Topology.cpuCount(topology); i++) {
            Console.print(" ");
            Log.dec(Topology.cpuApicId(topology, i));
            if (!Topology.cpuIsEnabled(topology, i)) {
                Console.print("(disabled)");
            }
        }
        Console.print("\n");
        for (int i = 0; i < Topology.ioApicCount(topology); i++) {
            Console.print("acpi: i/o apic id ");
            Log.dec(Topology.ioApicId(topology, i));
            Console.print(" at ");
            Log.hex(Topology.ioApicMmio(topology, i));
            Console.print(", gsi base ");
            Log.dec(Topology.ioApicGsiBase(topology, i));
            Console.print("\n");
        }
        for (int i = 0; i < Topology.overrideCount(topology); i++) {
            Console.print("acpi: override irq ");
            Log.dec(Topology.overrideSourceIrq(topology, i));
            Console.print(" -> gsi ");
            Log.dec(Topology.overrideGsi(topology, i));
            Console.print(", flags ");
            Log.hex(Topology.overrideFlags(topology, i));
            Console.print("\n");
        }
    }

    /**
     * Compares the CPUs the MADT enables with the count the firmware's fw_cfg reports (QEMU and
     * our VMM have it): a machine whose tables were ignored or misread boots on fewer CPUs than
     * it has, and that must be said, not hidden behind a passing run.
     */
    static void firmwareCpuCount(long topology) {
        int firmware = FwCfg.cpuCount();
        if (firmware == 0) {
            Console.print("fw_cfg: not present; the MADT alone gives the cpu count\n");
            return;
        }
        int madt = Topology.enabledCpuCount(topology);
        Console.print("fw_cfg: ");
        Log.dec(firmware);
        Console.print(" cpus");
        if (firmware == madt) {
            Console.print(", as the MADT says\n");
            return;
        }
        Console.print(", but the kernel found ");
        Log.dec(madt);
        Console.print(" through ACPI: MISMATCH (the other cpus stay unused)\n");
    }

    static void paging(long fineEnd, int protections) {
        Console.print("paging: kernel page tables, 4 KiB pages below ");
        Log.hex(fineEnd);
        Console.print(", ");
        Log.dec(BootAllocator.guardCount());
        Console.print(" guard pages; protections:");
        Features.print(protections);
        Console.print(" wp\n");
    }

    static void localApic(boolean x2apic, long lapicAddress) {
        Console.print("lapic: ");
        if (x2apic) {
            Console.print("x2apic mode (MSRs)");
        } else {
            Console.print("xapic mode (MMIO ");
            Log.hex(lapicAddress);
            Console.print(")");
        }
        Console.print(", boot cpu apic id ");
        Log.dec(Lapic.id());
        Console.print(", version ");
        Log.hex(Lapic.read(Lapic.VERSION) & 0xFF);
        Console.print(", spurious vector ");
        Log.hex(Vectors.SPURIOUS);
        Console.print("\n");
    }

    static void timer() {
        Console.print("timer: lapic ");
        Log.dec(PitCalibration.lapicTicksPerMs());
        Console.print(" ticks/ms (divide by 16), tsc ");
        Log.dec(PitCalibration.tscTicksPerMs());
        Console.print(" ticks/ms, measured over ");
        Log.dec(PitCalibration.MILLISECONDS);
        if (PitCalibration.usedChannel2()) {
            Console.print(" ms of PIT channel 2 (best of ");
        } else {
            Console.print(" ms of PIT channel 0, no port 0x61 (best of ");
        }
        Log.dec(PitCalibration.ROUNDS);
        Console.print(" rounds, ");
        Log.dec(PitCalibration.polls());
        Console.print(" polls, +-");
        Log.dec(PitCalibration.uncertaintyMicros());
        Console.print(" us)\n");
    }

    static void smp(int online, long micros) {
        Console.print("smp: ");
        Log.dec(online);
        Console.print(" cpus online after ");
        Log.dec(micros / 1000);
        Console.print(" ms\n");
    }

    /** The per-CPU table; false when a CPU that should be online is not, or failed its checks. */
    static boolean cpus(int cpuCount, long enabled, int online, int bspFeatures) {
        boolean passed = true;
        int expected = CpuMask.count(enabled);
        Console.print("cpus online: ");
        Log.dec(online);
        Console.print(" of ");
        Log.dec(expected);
        Console.print("\n");
        if (online != expected || ApStartup.timedOut() != 0) {
            passed = false;
        }
        passed &= expectedCpusOnline(online);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (!CpuMask.contains(enabled, cpu)) {
                continue;
            }
            long record = SmpState.record(cpu);
            Console.print("cpu ");
            Log.dec(cpu);
            Console.print(": apic ");
            Log.dec(CpuRecord.apicId(cpu));
            Console.print(", stage ");
            BootStage.print(SmpState.stage(cpu));
            if (!CpuRecord.isOnline(cpu)) {
                Console.print(", offline\n");
                continue;
            }
            int check = Memory.load32(record + SmpState.PER_CPU_CHECK);
            if (check == 0) {
                Console.print(", per-cpu ok");
            } else {
                Console.print(", per-cpu check FAILED ");
                Log.hex(check);
                passed = false;
            }
            if (cpu != 0) {
                Console.print(", interrupts ");
                Log.dec(CrossCalls.interruptsSeen(cpu));
            } else {
                Console.print(" (boot cpu), interrupts ");
                Log.dec(InterruptCounts.interrupts());
            }
            int features = Memory.load32(record + SmpState.FEATURES);
            if (features != bspFeatures && CpuRecord.isOnline(cpu)) {
                Console.print(", features differ: has");
                Features.print(features & ~bspFeatures);
                Console.print(", lacks");
                Features.print(bspFeatures & ~features);
            }
            Console.print("\n");
        }
        return passed;
    }

    /** The IPI error line (ESR after each ICR write); false when there were any. */
    static boolean ipiErrors() {
        boolean passed = true;
        Console.print("ipi errors (ESR after each ICR write): ");
        Log.dec(Lapic.ipiErrors());
        if (Lapic.ipiErrors() != 0 || LapicIpiSender.failures() != 0) {
            Console.print(", last ");
            Log.hex(Lapic.lastError());
            passed = false;
        }
        Console.print("\n");
        return passed;
    }

    /** Whether expect-cpus=N, when given, matches the CPUs online; one line when it does not. */
    static boolean expectedCpusOnline(int online) {
        int expected = CommandLine.expectCpus();
        if (expected == 0 || expected == online) {
            return true;
        }
        Console.print("expect-cpus: ");
        Log.dec(expected);
        Console.print(" cpus expected online, ");
        Log.dec(online);
        Console.print(" are: FAIL\n");
        return false;
    }
}
