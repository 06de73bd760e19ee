/**
 * Independent-oracle tests of the emulated CPU (issue 11 §5): QEMU TCG driven through its gdbstub
 * as the reference, in lockstep with {@code dev.jkvm.vmm.emulated.cpu.X86Cpu}.
 *
 * <ul>
 *   <li>Transport: {@link dev.jkvm.vmm.emulated.lockstep.GdbRemote} (GDB remote serial protocol),
 *       {@link dev.jkvm.vmm.emulated.lockstep.QemuTarget} (one QEMU on a loopback port, always
 *       killed), {@link dev.jkvm.vmm.emulated.lockstep.RegisterLayout} (the {@code g} packet from
 *       QEMU's target.xml), {@link dev.jkvm.vmm.emulated.lockstep.SegmentState} (hidden state from
 *       {@code info registers}), {@link dev.jkvm.vmm.emulated.lockstep.OracleMsrs}.</li>
 *   <li>Comparison: {@link dev.jkvm.vmm.emulated.lockstep.Lockstep} steps both and compares;
 *       {@link dev.jkvm.vmm.emulated.lockstep.UndefinedFlags} (SDM-undefined flags),
 *       {@link dev.jkvm.vmm.emulated.lockstep.SpecialInstruction} (results taken from QEMU: CPUID,
 *       RDTSC, RDMSR, port input, device MMIO) and
 *       {@link dev.jkvm.vmm.emulated.lockstep.QemuDeviations} (where QEMU 7.2 is wrong or uses
 *       implementation freedom) say what is not compared.</li>
 *   <li>Workloads: {@link dev.jkvm.vmm.emulated.lockstep.RandomProgramRun} (random programs from
 *       {@link dev.jkvm.vmm.emulated.lockstep.RandomProgram} in 64-, 32- and 16-bit code) and
 *       {@link dev.jkvm.vmm.emulated.lockstep.BootTrace} (an image's boot from its entry or a symbol, optionally
 *       from a state {@link dev.jkvm.vmm.emulated.lockstep.SipiStart} gives: an AP through the real-mode
 *       trampoline), {@link dev.jkvm.vmm.emulated.lockstep.ExceptionKernel} (exceptions raised in ring 0 and
 *       ring 3, frames compared), {@code ExceptionLockstepTest} ({@link dev.jkvm.vmm.emulated.lockstep.ProtectedModeExceptionKernel}:
 *       32-bit IDT gates and ESP0/SS0; {@link dev.jkvm.vmm.emulated.lockstep.RealModeExceptionKernel}: the IVT;
 *       {@link dev.jkvm.vmm.emulated.lockstep.DoubleFaultKernel}: IST, #DF, triple fault) and {@code InterruptLockstepTest} (an NMI injected into both at one boundary;
 *       {@link dev.jkvm.vmm.emulated.lockstep.InterruptKernel}'s LAPIC self-IPIs and timer interrupt,
 *       each CPU with its own local APIC: shadows, TPR, nesting, EOI order), and {@code SmpLockstepTest}
 *       (two vCPUs stepped in a fixed interleaving, one gdbstub thread each: an NMI IPI from the BSP
 *       taken by the AP, {@link dev.jkvm.vmm.emulated.lockstep.TwoCpuLockstepKernel}; fixed IPIs each way
 *       that interrupt running code — after MOV SS (a fixed IPI and an NMI), after LSS, in a busy loop, in a loop toggling IF —
 *       and TF's trap across POP SS / MOV SS, {@link dev.jkvm.vmm.emulated.lockstep.FixedIpiKernel}).</li>
 *   <li>CPUs under test: {@link dev.jkvm.vmm.emulated.lockstep.EmulatedCpuUnderTest} (ours),
 *       {@link dev.jkvm.vmm.emulated.lockstep.QemuCpuUnderTest} (a second QEMU, for the harness's own
 *       tests), {@link dev.jkvm.vmm.emulated.lockstep.FaultInjectingCpu} (a deliberate bug).</li>
 * </ul>
 *
 * <p>More on demand: {@code -Dlockstep.seed= -Dlockstep.count= -Dlockstep.stepwise= -Dlockstep.length=
 * -Dlockstep.legacy.count= -Dlockstep.boot.steps= -Dlockstep.boot.from=SYMBOL -Dlockstep.user.steps=}.
 * The second oracle: {@link dev.jkvm.vmm.emulated.lockstep.KvmCpuUnderTest} (the project's KVM backend,
 * single-stepped with KVM_GUESTDBG_SINGLESTEP) in {@code KvmLockstepTest} on a host with KVM, with
 * {@link dev.jkvm.vmm.emulated.lockstep.KvmDeviations} (what this nested KVM itself cannot execute);
 * more on demand with {@code -Dlockstep.kvm.count= -Dlockstep.kvm.legacy.count= -Dlockstep.kvm.stepwise=true}.
 */
package dev.jkvm.vmm.emulated.lockstep;
