package dev.jkvm.vmm.emulated.lockstep;

import dev.jkvm.vmm.kvm.KvmAbi;
import dev.jkvm.vmm.kvm.Kvm;
import dev.jkvm.vmm.kvm.KvmMachine;
import dev.jkvm.vmm.kvm.KvmVm;
import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.kvm.KvmVcpu;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.DescriptorTable;
import dev.jkvm.vmm.vcpu.MpState;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Segment;
import dev.jkvm.vmm.vcpu.Sregs;
import dev.jkvm.vmm.vcpu.VcpuExit;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The project's KVM backend (its {@link Kvm}, {@link KvmVm} and {@link KvmVcpu}) as the CPU under test: the
 * second oracle of issue 11 §5. One vCPU over {@code ramBytes} of RAM at physical 0, no in-kernel
 * irqchip (interrupts stay off; a HLT is an exit), CPUID as KVM supports it.
 * Each {@link #step} is one KVM_RUN with KVM_GUESTDBG_SINGLESTEP (KVM_EXIT_DEBUG after one
 * instruction); {@link #runTo} runs without single-stepping up to the HLT that ends a program.
 *
 * <p>On this project's machines KVM is a nested paravirtual KVM (kvm_pvm): its ring-0 guest code
 * is emulated by the host's KVM, its ring-3 code runs on the host CPU (shared/PLATFORM.md), so in
 * ring 0 this oracle is KVM's instruction emulator rather than silicon. State comes in through
 * KVM_SET_SREGS/REGS/FPU/MSRS, also straight into 64-bit mode, which on kvm_pvm works for code
 * that raises no exception (the random programs raise none).
 */
final class KvmCpuUnderTest implements CpuUnderTest {
    /** MSR numbers (SDM Vol. 4 Table 2-2), in {@link OracleMsrs#NUMBERS} order. */
    private static final int KERNEL_GS_BASE = 0xC000_0102;

    private final Arena arena = Arena.ofShared();
    private final GuestMemory ram = new GuestMemory();
    private final Kvm kvm;
    private final KvmVm vm;
    private final KvmVcpu vcpu;
    private boolean singleStep;
    /** What the last failed step reported, for mismatch reports. */
    String lastFailure;

    KvmCpuUnderTest(long ramBytes) {
        MemorySegment seg = arena.allocate(ramBytes, 4096);
        ram.addRegion(0, seg);
        // A bare VM, not KvmMachine's: without the in-kernel irqchip a HLT returns KVM_EXIT_HLT to
        // user space instead of blocking the vCPU thread in the kernel until an interrupt.
        kvm = Kvm.open();
        KvmVm v = null;
        KvmVcpu c = null;
        try {
            v = kvm.createVm();
            v.setTssAddr(GuestLayout.TSS_ADDR); // needed for real mode under VMX (KVM API doc §4.40)
            v.setUserMemoryRegion(0, 0, seg);
            c = v.createVcpu(0);
            // CPUID first: KVM refuses EFER.NXE and other feature bits it has not advertised (PLATFORM.md).
            c.setCpuid(kvm.supportedCpuid());
        } catch (RuntimeException e) {
            if (c != null) c.close();
            if (v != null) v.close();
            kvm.close();
            arena.close();
            throw e;
        }
        vm = v;
        vcpu = c;
    }

    /** Why KVM cannot serve as an oracle here, or null. */
    static String unavailableReason() {
        return KvmMachine.unavailableReason();
    }

    @Override
    public void load(X86State r, SegmentState seg) {
        Sregs old = vcpu.sregs();
        boolean longMode = (r.efer & 0x400) != 0;
        Segment[] s = new Segment[8];
        for (int i = 0; i < 8; i++) s[i] = segment(seg, i, longMode);
        vcpu.setSregs(new Sregs(s[1], s[3], s[0], withBase(s[4], r.fsBase), withBase(s[5], r.gsBase), s[2], s[6], s[7],
                new DescriptorTable(seg.gdtBase(), seg.gdtLimit()), new DescriptorTable(seg.idtBase(), seg.idtLimit()),
                r.cr0, r.cr2, r.cr3, r.cr4, old.cr8(), r.efer, old.apicBase(), Sregs.noPendingInterrupts()));
        if (longMode) vcpu.setMsrs(Map.of(KERNEL_GS_BASE, r.kernelGsBase));
        vcpu.setMpState(MpState.RUNNABLE);
        setRegisters(r);
    }

    @Override
    public void loadMsrs(OracleMsrs m) {
        Map<Integer, Long> msrs = new LinkedHashMap<>();
        long[] v = {m.star(), m.lstar(), m.cstar(), m.fmask(), m.pat(), m.sysenterCs(), m.sysenterEsp(), m.sysenterEip(), m.tscAux()};
        for (int i = 0; i < v.length; i++) msrs.put(OracleMsrs.NUMBERS[i], v[i]);
        vcpu.setMsrs(msrs);
    }

    /** A {@link SegmentState} entry (CpuState.segAttr packing: descriptor bits 8..23 shifted down by 8) as KVM's segment. */
    private static Segment segment(SegmentState seg, int i, boolean longMode) {
        int a = seg.attr()[i];
        boolean present = (a & 0x80) != 0;
        int type = a & 0xF;
        if (i == 6 && !present) {
            // TR must hold a busy TSS to run (SDM Vol. 3A §26.3.1.2 for VMX; KVM checks it on entry too);
            // the lockstep kernels never load TR, so give it an empty busy 64-bit/32-bit TSS.
            return new Segment(seg.base()[i], (int) Math.max(seg.limit()[i], 0x67), seg.selector()[i], 11, true, 0,
                    false, false, false, false, false, false);
        }
        boolean nullData = i != 1 && i < 6 && (seg.selector()[i] & 0xFFFC) == 0 && longMode;
        boolean unusable = !present || (i == 7 && (seg.selector()[i] & 0xFFFC) == 0) || nullData && !present;
        return new Segment(seg.base()[i], (int) seg.limit()[i], seg.selector()[i], type, present, (a >> 5) & 3,
                (a & 0x4000) != 0, (a & 0x10) != 0, (a & 0x2000) != 0, (a & 0x8000) != 0, (a & 0x1000) != 0, unusable);
    }

    private static Segment withBase(Segment s, long base) {
        return new Segment(base, s.limit(), s.selector(), s.type(), s.present(), s.dpl(), s.db(), s.s(), s.l(), s.g(), s.avl(),
                s.unusable());
    }

    @Override
    public void setRegisters(X86State r) {
        long[] g = r.gpr;
        vcpu.setRegs(new Regs(g[0], g[3], g[1], g[2], g[6], g[7], g[4], g[5], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
                g[15], r.rip, r.rflags));
        vcpu.setSseState(r.xmm, r.mxcsr);
    }

    @Override
    public void writeMemory(long physical, byte[] data) {
        ram.write(physical, data);
    }

    @Override
    public byte[] readMemory(long physical, int length) {
        return ram.slice(physical, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public StepEvent step(DeviceAnswers devices) {
        if (!singleStep) {
            vcpu.setSingleStep(true);
            singleStep = true;
        }
        StepEvent event = StepEvent.EXECUTED;
        for (int guard = 0; guard < 64; guard++) {
            VcpuExit e = vcpu.run();
            if (vcpu.exitReason() == KvmAbi.KVM_EXIT_DEBUG) return event;
            switch (e) {
                case VcpuExit.PortIn in -> {
                    // One element per exit: the harness's programs do no REP INS.
                    for (int i = 0; i < in.count(); i++) in.data().set(i, (int) devices.portIn(in.port(), in.size()));
                    event = StepEvent.PORT_IN;
                }
                case VcpuExit.PortOut out -> event = StepEvent.PORT_OUT;
                case VcpuExit.MmioRead rd -> {
                    rd.data().set(devices.mmioRead(rd.address(), rd.length()));
                    event = StepEvent.MMIO_READ;
                }
                case VcpuExit.MmioWrite wr -> event = StepEvent.MMIO_WRITE;
                case VcpuExit.Halt h -> {
                    return StepEvent.HALTED;
                }
                case VcpuExit.Shutdown sd -> {
                    lastFailure = sd.toString();
                    return StepEvent.SHUTDOWN;
                }
                case VcpuExit.Interrupted i -> {
                    // a signal: enter again
                }
                default -> {
                    lastFailure = e.toString();
                    return StepEvent.FAILED;
                }
            }
        }
        lastFailure = "no KVM_EXIT_DEBUG after 64 exits";
        return StepEvent.FAILED;
    }

    /** Runs freely to the HLT at {@code rip} (the random programs' end is HLT-filled) and stops before it. */
    @Override
    public long runTo(long rip, long maxInstructions) {
        if (singleStep) {
            vcpu.setSingleStep(false);
            singleStep = false;
        }
        for (int guard = 0; guard < 64; guard++) {
            VcpuExit e = vcpu.run();
            if (e instanceof VcpuExit.Interrupted) continue;
            if (e instanceof VcpuExit.Halt) {
                Regs r = vcpu.regs();
                // KVM reports HLT with RIP after it (SDM Vol. 2A HLT: the saved instruction pointer points after HLT).
                if (r.rip() == rip + 1) {
                    vcpu.setRegs(new Regs(r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(),
                            r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), rip, r.rflags()));
                    vcpu.setMpState(MpState.RUNNABLE);
                }
            } else {
                lastFailure = e.toString();
            }
            return 0;
        }
        return 0;
    }

    @Override
    public X86State registers() {
        Regs g = vcpu.regs();
        Sregs s = vcpu.sregs();
        X86State r = new X86State();
        long[] gpr = {g.rax(), g.rcx(), g.rdx(), g.rbx(), g.rsp(), g.rbp(), g.rsi(), g.rdi(), g.r8(), g.r9(), g.r10(), g.r11(),
                g.r12(), g.r13(), g.r14(), g.r15()};
        System.arraycopy(gpr, 0, r.gpr, 0, 16);
        r.rip = g.rip();
        r.rflags = g.rflags();
        Segment[] seg = {s.es(), s.cs(), s.ss(), s.ds(), s.fs(), s.gs()};
        for (int i = 0; i < 6; i++) r.selector[i] = seg[i].selector();
        r.fsBase = s.fs().base();
        r.gsBase = s.gs().base();
        r.kernelGsBase = (s.efer() & 0x400) != 0 ? vcpu.msr(KERNEL_GS_BASE) : 0;
        r.cr0 = s.cr0();
        r.cr2 = s.cr2();
        r.cr3 = s.cr3();
        r.cr4 = s.cr4();
        r.cr8 = 0; // the LAPIC's TPR, not compared
        r.efer = s.efer();
        r.mxcsr = vcpu.sseState(r.xmm);
        return r;
    }

    @Override
    public String failureDetail() {
        return lastFailure;
    }

    @Override
    public SegmentState segments() {
        Sregs s = vcpu.sregs();
        Segment[] seg = {s.es(), s.cs(), s.ss(), s.ds(), s.fs(), s.gs(), s.tr(), s.ldt()};
        int[] sel = new int[8];
        long[] base = new long[8];
        long[] limit = new long[8];
        int[] attr = new int[8];
        for (int i = 0; i < 8; i++) {
            Segment x = seg[i];
            sel[i] = x.selector();
            base[i] = x.base();
            limit[i] = x.limit() & 0xFFFF_FFFFL;
            attr[i] = x.type() | (x.s() ? 0x10 : 0) | x.dpl() << 5 | (x.present() ? 0x80 : 0) | (x.avl() ? 0x1000 : 0)
                    | (x.l() ? 0x2000 : 0) | (x.db() ? 0x4000 : 0) | (x.g() ? 0x8000 : 0);
        }
        // CPL is SS.DPL (SDM Vol. 3A §5.5; VMX keeps it there), 0 in real mode.
        int cpl = (s.cr0() & 1) == 0 ? 0 : s.ss().dpl();
        return new SegmentState(sel, base, limit, attr, s.gdt().base(), s.gdt().limit(), s.idt().base(), s.idt().limit(), cpl,
                false, vcpu.mpState() == MpState.HALTED);
    }

    @Override
    public void close() {
        try {
            vcpu.close();
            vm.close();
            kvm.close();
        } finally {
            arena.close();
        }
    }
}
