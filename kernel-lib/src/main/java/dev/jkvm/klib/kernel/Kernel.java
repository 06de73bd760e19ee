package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.acpi.Acpi;
import dev.jkvm.klib.kernel.acpi.PhysicalWindow;
import dev.jkvm.klib.kernel.acpi.SoftOff;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.apic.LegacyPic;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.CpuResources;
import dev.jkvm.klib.kernel.cpu.Features;
import dev.jkvm.klib.kernel.cpu.Gdt;
import dev.jkvm.klib.kernel.cpu.HardwareCheck;
import dev.jkvm.klib.kernel.cpu.Idt;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.SystemCallMsrs;
import dev.jkvm.klib.kernel.cpu.Tss;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.MemoryMap;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.selftest.CrossCalls;
import dev.jkvm.klib.kernel.selftest.IpiChecks;
import dev.jkvm.klib.kernel.selftest.SelfTestSuite;
import dev.jkvm.klib.kernel.smp.ApStartup;
import dev.jkvm.klib.kernel.smp.BootStage;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.KernelStacks;
import dev.jkvm.klib.kernel.proc.TaskBodies;
import dev.jkvm.klib.kernel.selftest.SchedChecks;
import dev.jkvm.klib.kernel.proc.Watchdog;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.time.PitCalibration;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The SMP kernel's boot path, entered in long mode from the multiboot entry with GS already on
 * the boot CPU's per-CPU area. main reads as the list of its steps (xv6's main.c): each is a
 * method below that initialises one subsystem and prints its line (BootReport); the run ends in
 * the scheduler's main task: ACPI S5 soft-off when everything passed (isa-debug-exit 0 where the
 * machine has no S5), isa-debug-exit otherwise. The APs enter at apMain.
 *
 * The command line is parsed strictly (CommandLine): anything else fails the run with one line,
 * and "expect-cpus=N" fails it unless N CPUs come online. "test=..." asks for a failure path
 * instead of a normal run (FaultInjection), "test=sched-NAME" and "test=boot" for a scheduler
 * test (MainTask).
 *
 * What the steps hand each other is kept in the static fields below: the boot CPU alone runs
 * them, once, before any other CPU starts.
 */
public final class Kernel {
    private Kernel() {
    }

    /** The first GiB is mapped by the boot page tables; everything before the switch lives there. */
    private static final long BOOT_MAP_END = 1L << 30;
    private static final int TOPOLOGY_CPUS = 1024;
    /** Page-table pages besides one page directory per GiB mapped: the fine-grained chunks, guards, user space. */
    private static final int PAGE_TABLE_POOL_PAGES = 64;
    /** Page-table pages for mapping firmware tables beyond the boot map (DemandMapping): one per GiB touched. */
    private static final int DEMAND_MAP_PAGES = 8;
    private static final long TWO_MIB = 1L << 21;

    private static boolean selfTestSuite;
    private static long ramEnd;
    private static long idt;
    private static int features;
    private static long topology;
    private static int cpuCount;
    /** CpuMask of the CPUs the MADT enables (and the boot CPU). */
    private static long enabled;
    private static long gdt;
    private static int protections;
    /** Two pages for the TLB shootdown check. */
    private static long oldPage;
    private static long newPage;
    private static int online;
    private static long smpMicros;

    public static void main(long info) {
        Console.print("jkvm smp kernel\n");
        commandLine(info);
        memory(info);
        cpuFeatures();
        acpi();
        FaultInjection.checkMachine(topology);
        perCpu();
        paging();
        FaultInjection.afterPaging();
        localApic();
        timer();
        interProcessorInterrupts();
        FaultInjection.beforeApsStart();
        startAps();
        FaultInjection.afterApsStarted();
        if (selfTestSuite) {
            selfTestSuite();
        }
        boolean passed = ipiChecks();
        passed &= BootReport.cpus(cpuCount, enabled, online, features);
        passed &= BootReport.ipiErrors();
        if (passed) {
            scheduler();
        }
        fail();
    }

    /**
     * Every AP's entry from the trampoline (xv6's mpenter/mpmain): bring-up in smp, then the
     * scheduler's idle loop, which never returns.
     */
    public static void apMain(int cpu) {
        ApStartup.bringUp(cpu);
        KernelScheduler.apIdle();
    }

    private static void commandLine(long info) {
        boolean commandLineOk = CommandLine.parse(info);
        Watchdog.setCommandLineLimit(CommandLine.watchdogMs());
        SchedChecks.setCommandLineSpin(CommandLine.schedSpin());
        selfTestSuite = SelfTestSuite.enabled(CommandLine.selftest());
        if (!commandLineOk || !CommandLine.fitsImage(selfTestSuite)) {
            fail();
        }
    }

    /** Memory map, boot allocator, IDT and the legacy PIC out of the way. */
    private static void memory(long info) {
        ramEnd = MemoryMap.ramEnd(info);
        long imageEnd = KernelLayout.get(KernelLayout.IMAGE_END);
        long bootData = MemoryMap.endOfBootData(info);
        BootAllocator.init(bootData > imageEnd ? bootData : imageEnd, ramEnd < BOOT_MAP_END ? ramEnd : BOOT_MAP_END);
        BootAllocator.addGuard(KernelLayout.get(KernelLayout.BSP_STACK_GUARD));
        idt = BootAllocator.pages(1);
        Idt.build(idt, KernelLayout.get(KernelLayout.TRAP_STUBS));
        Idt.load(idt);
        // Before anything can enable interrupts (the PIT calibration programs channel 0 on
        // machines without port 0x61): a PIC still at the BIOS's vector 8 would turn IRQ0 into
        // what looks like a double fault.
        LegacyPic.remapAndMask();
        BootReport.memory(ramEnd);
    }

    private static void cpuFeatures() {
        features = Features.detect();
        BootReport.features(features);
        if (!HardwareCheck.requiredPresent(features, FaultInjection.executesData())) {
            fail();
        }
    }

    /** The topology from the ACPI tables, the S5 soft-off register, and the firmware's CPU count as a cross-check. */
    private static void acpi() {
        int bspApicId = initialApicId(features);
        topology = BootAllocator.allocate(Topology.bytesNeeded(TOPOLOGY_CPUS, 16, 48, 16), 8);
        Topology.format(topology, TOPOLOGY_CPUS, 16, 48, 16);
        // The whole physical address space, not just usable RAM: firmware puts its tables in
        // ranges the memory map marks reserved or ACPI (SeaBIOS: the top 128 KiB below the end of
        // low RAM, 2 or 3 GiB up once there is that much), beyond the boot map's first GiB.
        PhysicalWindow.mapOnDemand(BOOT_MAP_END, physicalAddressBits(), BootAllocator.pages(DEMAND_MAP_PAGES),
                DEMAND_MAP_PAGES);
        int outcome = Acpi.discoverInWindow(bspApicId, topology);
        BootReport.topology(topology, outcome);
        SoftOff.prepare();
        BootReport.firmwareCpuCount(topology);
        cpuCount = Topology.cpuCount(topology);
    }

    /** CPU records, SMP state, the GDT, and each enabled CPU's per-CPU area, stacks and TSS. */
    private static void perCpu() {
        enabled = BootAllocator.allocate(CpuMask.SIZE, 8);
        CpuMask.clearAll(enabled);
        CpuRecord.allocate(cpuCount);
        SmpState.allocate(cpuCount);
        gdt = BootAllocator.allocate(Gdt.bytesFor(cpuCount), 64);
        Gdt.format(gdt);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (cpu == 0 || Topology.cpuIsEnabled(topology, cpu)) {
                CpuMask.set(enabled, cpu);
                long tss = CpuResources.prepare(cpu, Topology.cpuApicId(topology, cpu), cpu == 0);
                Gdt.setTss(gdt, cpu, tss, Tss.LIMIT);
            }
        }
        Gdt.load(gdt, cpuCount, 0);
        IpiHandlers.registerCounters();
        Panic.registerStopState();
        CrossCalls.registerScratch();
        CpuResources.bufferConsoleLines(cpuCount, enabled);
    }

    /** The kernel's own page tables, the protections (NX, SMEP, SMAP, UMIP, CR0.WP), SYSCALL, user space. */
    private static void paging() {
        oldPage = BootAllocator.pages(1);
        newPage = BootAllocator.pages(1);
        KernelStacks.reserve(KernelScheduler.STACKS);
        long mappedGiB = ((ramEnd > (4L << 30) ? ramEnd : (4L << 30)) + (1L << 30) - 1) >>> 30;
        int poolPages = PAGE_TABLE_POOL_PAGES + (int) (mappedGiB < 512 ? mappedGiB : 512);
        long pool = BootAllocator.pages(poolPages);
        PageTables.usePool(pool, poolPages);
        long fineEnd = BootAllocator.alignUp(BootAllocator.next(), TWO_MIB);
        boolean nx = (features & Features.NX) != 0;
        Features.enableNx(features);
        Cpu.writeCr3(PageTables.build(ramEnd, fineEnd, nx));
        protections = Features.enableProtections(features);
        SystemCallMsrs.enable(KernelLayout.get(KernelLayout.SYSCALL_ENTRY));
        UserSpace.init(KernelScheduler.STACKS);
        BootReport.paging(fineEnd, protections);
    }

    private static void localApic() {
        boolean x2apic = (features & Features.X2APIC) != 0;
        Lapic.chooseMode(x2apic, Topology.lapicAddress(topology));
        Lapic.enable(Vectors.SPURIOUS);
        int checkProblems = PerCpuArea.check(Lapic.id());
        Memory.store32(SmpState.record(0) + SmpState.PER_CPU_CHECK, checkProblems);
        Memory.store32(SmpState.record(0) + SmpState.FEATURES, features);
        Memory.store32(SmpState.record(0) + SmpState.PROTECTIONS, protections);
        BootReport.localApic(x2apic, Topology.lapicAddress(topology));
    }

    /** The local APIC timer and the TSC, calibrated against the PIT. */
    private static void timer() {
        PitCalibration.run(Vectors.TIMER);
        if (!PitCalibration.plausible()) {
            fail();
        }
        Delay.calibrated(PitCalibration.tscTicksPerMs());
        BootReport.timer();
    }

    /** IPI mailbox, call-function and TLB shootdown areas; the boot CPU online and ready. */
    private static void interProcessorInterrupts() {
        IpiMailbox.init(SmpState.mailbox(), cpuCount, Vectors.MAILBOX_FIRST);
        CallFunction.init(SmpState.calls(), cpuCount, SmpState.mailbox(), SmpState.tlb());
        TlbShootdown.init(SmpState.tlb(), cpuCount, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD, SmpState.mailbox(),
                SmpState.calls());
        CpuMask.set(CpuRecord.onlineMask(), 0);
        SmpState.setStage(0, BootStage.READY);
        CpuRecord.markReady();
        ApStartup.shareTables(gdt, idt, features);
    }

    /** INIT-SIPI-SIPI to every enabled AP; each enters apMain and idles until the scheduler runs. */
    private static void startAps() {
        Cpu.sti();
        long smpStart = Delay.now();
        online = ApStartup.startAll(cpuCount, enabled);
        smpMicros = Delay.elapsedMicros(smpStart, Delay.now());
        SmpState.setStage(0, BootStage.IDLE);
        BootReport.smp(online, smpMicros);
    }

    /** selftest=...: the SMP test suite (TAP lines) before the usual checks. */
    private static void selfTestSuite() {
        if (!BootReport.expectedCpusOnline(online)) {
            fail();
        }
        SelfTestSuite.run(enabled, smpMicros, CommandLine.stormMs());
    }

    private static boolean ipiChecks() {
        boolean passed = true;
        passed &= IpiChecks.reschedule();
        passed &= IpiChecks.callSingle();
        passed &= IpiChecks.callMany();
        passed &= IpiChecks.timer(PitCalibration.lapicTicksPerMs());
        passed &= IpiChecks.shootdown(oldPage, newPage);
        return passed;
    }

    /** The scheduler on every CPU and the main task (MainTask), which ends the run; never returns. */
    private static void scheduler() {
        KernelScheduler.start(cpuCount, CpuRecord.onlineMask(), PitCalibration.lapicTicksPerMs(),
                PitCalibration.tscTicksPerMs());
        KernelScheduler.spawn(TaskBodies.MAIN, CommandLine.test(), KernelScheduler.NORMAL_PRIORITY);
        KernelScheduler.idle();
    }

    /** Ends a run that cannot go on: the result line, then isa-debug-exit SELF_TEST_FAILED. */
    static void fail() {
        Console.print("result: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
    }

    /** Physical address width, CPUID 0x80000008 EAX[7:0] (Intel SDM Vol. 2A CPUID); 36 without the leaf. */
    private static int physicalAddressBits() {
        if ((Cpu.cpuidEax(0x80000000, 0) & 0xFFFFFFFFL) >= 0x80000008L) {
            return Cpu.cpuidEax(0x80000008, 0) & 0xFF;
        }
        return 36;
    }

    /** The boot CPU's initial APIC ID: CPUID leaf 0xB EDX when present (x2APIC IDs), else leaf 1 EBX[31:24]. */
    private static int initialApicId(int features) {
        if (Cpu.cpuidEax(0, 0) >= 0xB && Cpu.cpuidEbx(0xB, 0) != 0) {
            return Cpu.cpuidEdx(0xB, 0);
        }
        return Cpu.cpuidEbx(1, 0) >>> 24;
    }
}
