package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.acpi.Acpi;
import dev.jkvm.klib.kernel.acpi.Outcome;
import dev.jkvm.klib.kernel.acpi.PhysicalWindow;
import dev.jkvm.klib.kernel.acpi.SoftOff;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.apic.LegacyPic;
import dev.jkvm.klib.kernel.boot.FwCfg;
import dev.jkvm.klib.kernel.console.Log;
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
import dev.jkvm.klib.kernel.selftest.SelfTestSuite;
import dev.jkvm.klib.kernel.smp.ApStartup;
import dev.jkvm.klib.kernel.smp.BootStage;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.smp.CpuMask;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiSender;
import dev.jkvm.klib.kernel.smp.SmpSelfTest;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.time.PitCalibration;
import dev.jkvm.klib.kernel.task.KernelScheduler;
import dev.jkvm.klib.kernel.task.KernelStacks;
import dev.jkvm.klib.kernel.task.MainTask;
import dev.jkvm.klib.kernel.task.TaskBodies;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.kernel.trap.Traps;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The SMP kernel's boot CPU path, entered in long mode from the multiboot entry with GS already
 * on the boot CPU's per-CPU area: memory, IDT, ACPI topology, per-CPU resources and GDT/TSS, the
 * kernel's own page tables, the local APIC and its timer, the application processors, the IPI
 * self-tests, then a report and the scheduler's main task, which ends the run: ACPI S5 soft-off
 * when everything passed (isa-debug-exit 0 where the machine has no S5), isa-debug-exit otherwise.
 *
 * The multiboot command line may ask for a failure path instead: "test=fault" touches the boot
 * stack's guard page (an exception report), "test=panic" panics once every CPU is up,
 * "test=hang" keeps the first AP from getting ready (it is reported and left offline),
 * "test=overflow" overflows the boot stack (a double fault reported from its IST stack),
 * "test=write-text" and "test=xdata" check that text is read-only and data not executable,
 * "test=sched-NAME" runs one in-guest scheduler test instead of the default workload (MainTask),
 * "test=boot" ends the run as soon as the scheduler runs on every CPU (scripts/bench/boot-loop).
 * The command line is parsed strictly (CommandLine): anything else fails the run with one line,
 * and "expect-cpus=N" fails it unless N CPUs come online.
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
    private static final int TEST_FAULT = CommandLine.TEST_FAULT;
    private static final int TEST_PANIC = CommandLine.TEST_PANIC;
    private static final int TEST_HANG = CommandLine.TEST_HANG;
    private static final int TEST_OVERFLOW = CommandLine.TEST_OVERFLOW;
    private static final int TEST_WRITE_TEXT = CommandLine.TEST_WRITE_TEXT;
    private static final int TEST_EXECUTE_DATA = CommandLine.TEST_EXECUTE_DATA;

    public static void main(long info) {
        Console.print("jkvm smp kernel\n");
        boolean commandLineOk = CommandLine.parse(info);
        boolean suite = SelfTestSuite.enabled(CommandLine.selftest());
        if (!commandLineOk || !CommandLine.fitsImage(suite)) {
            fail();
        }
        long ramEnd = MemoryMap.ramEnd(info);
        long imageEnd = KernelLayout.get(KernelLayout.IMAGE_END);
        int test = CommandLine.test();
        long bootData = MemoryMap.endOfBootData(info);
        BootAllocator.init(bootData > imageEnd ? bootData : imageEnd, ramEnd < BOOT_MAP_END ? ramEnd : BOOT_MAP_END);
        BootAllocator.addGuard(KernelLayout.get(KernelLayout.BSP_STACK_GUARD));
        long idt = BootAllocator.pages(1);
        Idt.build(idt, KernelLayout.get(KernelLayout.TRAP_STUBS));
        Idt.load(idt);
        // Before anything can enable interrupts (the PIT calibration programs channel 0 on
        // machines without port 0x61): a PIC still at the BIOS's vector 8 would turn IRQ0 into
        // what looks like a double fault.
        LegacyPic.remapAndMask();
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
        Log.hex(imageEnd);
        Console.print("\n");

        int features = Features.detect();
        Console.print("cpu features:");
        Features.print(features);
        Console.print("\n");
        if (!HardwareCheck.requiredPresent(features, test == TEST_EXECUTE_DATA)) {
            fail();
        }

        int bspApicId = initialApicId(features);
        long topology = BootAllocator.allocate(Topology.bytesNeeded(TOPOLOGY_CPUS, 16, 48, 16), 8);
        Topology.format(topology, TOPOLOGY_CPUS, 16, 48, 16);
        // The whole physical address space, not just usable RAM: firmware puts its tables in
        // ranges the memory map marks reserved or ACPI (SeaBIOS: the top 128 KiB below the end of
        // low RAM, 2 or 3 GiB up once there is that much), beyond the boot map's first GiB.
        PhysicalWindow.mapOnDemand(BOOT_MAP_END, physicalAddressBits(), BootAllocator.pages(DEMAND_MAP_PAGES),
                DEMAND_MAP_PAGES);
        int outcome = Acpi.discoverInWindow(bspApicId, topology);
        printTopology(topology, outcome);
        SoftOff.prepare();
        crossCheckCpuCount(topology);

        int cpuCount = Topology.cpuCount(topology);
        if (test == TEST_HANG && Topology.enabledCpuCount(topology) < 2) {
            Console.print("test=hang needs at least two CPUs (it keeps the first AP from getting ready), and this"
                    + " machine has one: give it more CPUs or drop test=hang\n");
            fail();
        }
        long enabled = BootAllocator.allocate(CpuMask.SIZE, 8);
        CpuMask.clearAll(enabled);
        SmpState.allocate(cpuCount);
        long gdt = BootAllocator.allocate(Gdt.bytesFor(cpuCount), 64);
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
        CpuResources.bufferConsoleLines(cpuCount, enabled);

        long oldPage = BootAllocator.pages(1);
        long newPage = BootAllocator.pages(1);
        KernelStacks.reserve(KernelScheduler.STACKS);
        long mappedGiB = ((ramEnd > (4L << 30) ? ramEnd : (4L << 30)) + (1L << 30) - 1) >>> 30;
        int poolPages = PAGE_TABLE_POOL_PAGES + (int) (mappedGiB < 512 ? mappedGiB : 512);
        long pool = BootAllocator.pages(poolPages);
        PageTables.usePool(pool, poolPages);
        long fineEnd = BootAllocator.alignUp(BootAllocator.next(), TWO_MIB);
        boolean nx = (features & Features.NX) != 0;
        Features.enableNx(features);
        Cpu.writeCr3(PageTables.build(ramEnd, fineEnd, nx));
        int protections = Features.enableProtections(features);
        SystemCallMsrs.enable(KernelLayout.get(KernelLayout.SYSCALL_ENTRY));
        UserSpace.init(KernelScheduler.STACKS);
        Console.print("paging: kernel page tables, 4 KiB pages below ");
        Log.hex(fineEnd);
        Console.print(", ");
        Log.dec(BootAllocator.guardCount());
        Console.print(" guard pages; protections:");
        Features.print(protections);
        Console.print(" wp\n");
        if (test == TEST_FAULT) {
            Console.print("test: writing to the boot stack's guard page\n");
            Memory.store64(KernelLayout.get(KernelLayout.BSP_STACK_GUARD) + 64, 1);
        }
        if (test == TEST_WRITE_TEXT) {
            Console.print("test: writing to kernel text\n");
            Memory.store8(KernelLayout.get(KernelLayout.TEXT_START), (byte) 0xCC);
        }
        if (test == TEST_EXECUTE_DATA) {
            Console.print("test: jumping into kernel data\n");
            Asm.call("kernel_jump_to", KernelLayout.get(KernelLayout.BSP_PER_CPU));
        }
        if (test == TEST_OVERFLOW) {
            Console.print("test: unbounded recursion on the boot stack\n");
            Log.dec(recurse(0));
        }

        boolean x2apic = (features & Features.X2APIC) != 0;
        Lapic.chooseMode(x2apic, Topology.lapicAddress(topology));
        Lapic.enable(Vectors.SPURIOUS);
        int checkProblems = PerCpuArea.check(Lapic.id());
        Memory.store32(SmpState.record(0) + SmpState.PER_CPU_CHECK, checkProblems);
        Memory.store32(SmpState.record(0) + SmpState.FEATURES, features);
        Memory.store32(SmpState.record(0) + SmpState.PROTECTIONS, protections);
        Console.print("lapic: ");
        if (x2apic) {
            Console.print("x2apic mode (MSRs)");
        } else {
            Console.print("xapic mode (MMIO ");
            Log.hex(Topology.lapicAddress(topology));
            Console.print(")");
        }
        Console.print(", boot cpu apic id ");
        Log.dec(Lapic.id());
        Console.print(", version ");
        Log.hex(Lapic.read(Lapic.VERSION) & 0xFF);
        Console.print(", spurious vector ");
        Log.hex(Vectors.SPURIOUS);
        Console.print("\n");
        PitCalibration.run(Vectors.TIMER);
        if (!PitCalibration.plausible()) {
            fail();
        }
        Delay.calibrated(PitCalibration.tscTicksPerMs());
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

        IpiMailbox.init(SmpState.mailbox(), cpuCount, Vectors.MAILBOX_FIRST);
        CallFunction.init(SmpState.calls(), cpuCount, SmpState.mailbox(), SmpState.tlb());
        TlbShootdown.init(SmpState.tlb(), cpuCount, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD, SmpState.mailbox(),
                SmpState.calls());
        CpuMask.set(SmpState.onlineMask(), 0);
        SmpState.setStage(0, BootStage.READY);
        SmpState.markReady();
        ApStartup.shareTables(gdt, idt, features);
        if (test == TEST_HANG) {
            Console.print("test: cpu 1 will stop before it is ready\n");
            ApStartup.hangFirstApForTest();
        }
        Cpu.sti();
        long smpStart = Delay.now();
        int online = ApStartup.startAll(cpuCount, enabled);
        long smpMicros = Delay.elapsedMicros(smpStart, Delay.now());
        SmpState.setStage(0, BootStage.IDLE);
        Console.print("smp: ");
        Log.dec(online);
        Console.print(" cpus online after ");
        Log.dec(smpMicros / 1000);
        Console.print(" ms\n");
        if (test == TEST_PANIC) {
            Console.print("test: panicking on purpose\n");
            Panic.panic();
        }
        if (suite) {
            if (!expectedCpusOnline(online)) {
                fail();
            }
            SelfTestSuite.run(enabled, smpMicros, CommandLine.stormMs());
        }

        boolean passed = true;
        passed &= SmpSelfTest.reschedule();
        passed &= SmpSelfTest.callSingle();
        passed &= SmpSelfTest.callMany();
        passed &= SmpSelfTest.timer(PitCalibration.lapicTicksPerMs());
        passed &= SmpSelfTest.shootdown(oldPage, newPage);
        passed &= report(cpuCount, enabled, online, features);
        Console.print("ipi errors (ESR after each ICR write): ");
        Log.dec(Lapic.ipiErrors());
        if (Lapic.ipiErrors() != 0 || IpiSender.failures() != 0) {
            Console.print(", last ");
            Log.hex(Lapic.lastError());
            passed = false;
        }
        Console.print("\n");
        if (passed) {
            KernelScheduler.start(cpuCount, SmpState.onlineMask(), PitCalibration.lapicTicksPerMs(),
                    PitCalibration.tscTicksPerMs());
            KernelScheduler.spawn(TaskBodies.MAIN, test, KernelScheduler.NORMAL_PRIORITY);
            KernelScheduler.idle();
        }
        Console.print("result: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
    }

    private static boolean report(int cpuCount, long enabled, int online, int bspFeatures) {
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
            Log.dec(SmpState.apicId(cpu));
            Console.print(", stage ");
            BootStage.print(SmpState.stage(cpu));
            if (!SmpState.isOnline(cpu)) {
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
                Log.dec(Memory.load64(record + SmpState.INTERRUPTS));
            } else {
                Console.print(" (boot cpu), interrupts ");
                Log.dec(Traps.interruptCount());
            }
            int features = Memory.load32(record + SmpState.FEATURES);
            if (features != bspFeatures && SmpState.isOnline(cpu)) {
                Console.print(", features differ: has");
                Features.print(features & ~bspFeatures);
                Console.print(", lacks");
                Features.print(bspFeatures & ~features);
            }
            Console.print("\n");
        }
        return passed;
    }

    /** Whether expect-cpus=N, when given, matches the CPUs online; one line when it does not. */
    private static boolean expectedCpusOnline(int online) {
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

    /**
     * Compares the CPUs the MADT enables with the count the firmware's fw_cfg reports (QEMU and
     * our VMM have it): a machine whose tables were ignored or misread boots on fewer CPUs than
     * it has, and that must be said, not hidden behind a passing run.
     */
    private static void crossCheckCpuCount(long topology) {
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

    /** Physical address width, CPUID 0x80000008 EAX[7:0] (Intel SDM Vol. 2A CPUID); 36 without the leaf. */
    private static int physicalAddressBits() {
        if ((Cpu.cpuidEax(0x80000000, 0) & 0xFFFFFFFFL) >= 0x80000008L) {
            return Cpu.cpuidEax(0x80000008, 0) & 0xFF;
        }
        return 36;
    }

    /** Ends a run that cannot go on: the result line, then isa-debug-exit SELF_TEST_FAILED. */
    private static void fail() {
        Console.print("result: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
    }

    private static void printTopology(long topology, int outcome) {
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

    /** The boot CPU's initial APIC ID: CPUID leaf 0xB EDX when present (x2APIC IDs), else leaf 1 EBX[31:24]. */
    private static int initialApicId(int features) {
        if (Cpu.cpuidEax(0, 0) >= 0xB && Cpu.cpuidEbx(0xB, 0) != 0) {
            return Cpu.cpuidEdx(0xB, 0);
        }
        return Cpu.cpuidEbx(1, 0) >>> 24;
    }

    /**
     * Recurses until the stack runs into its guard page: the page fault cannot push its frame on
     * that stack, so the CPU raises a double fault, which runs on its own IST stack.
     */
    private static long recurse(long depth) {
        return recurse(depth + 1) + depth;
    }
}
