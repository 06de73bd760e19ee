package dev.jkvm.klib.compiler.samples;

import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Msr;
import dev.jkvm.klib.rt.PerCpu;
import dev.jkvm.klib.rt.Port;

/** Ring-0 intrinsics and per-CPU fields: checked by disassembling the compiled code. */
public final class Privileged {
    private Privileged() {
    }

    @PerCpu
    static long cpuTicks;
    @PerCpu
    static int cpuNumber = 3;

    public static int serialStatus(int port) {
        Port.out8(port, 0x41);
        Port.out16(port + 2, 0x1234);
        Port.out32(0xCF8, 0x80000000);
        return Port.in8(port + 5) + Port.in16(port) + Port.in32(0xCFC);
    }

    public static long msrs(long value) {
        Msr.write(0xC0000101, value);
        return Msr.read(0x1B);
    }

    public static long controlRegisters(long pageTable) {
        Cpu.writeCr3(pageTable);
        Cpu.writeCr4(Cpu.readCr4() | 0x20);
        Cpu.invlpg(pageTable);
        return Cpu.readCr0() ^ Cpu.readCr2() ^ Cpu.readCr3();
    }

    public static int cpuidAndFlags(int leaf) {
        Cpu.cli();
        int ebx = Cpu.cpuidEbx(leaf, 0);
        Cpu.sti();
        Cpu.pause();
        Cpu.hlt();
        return ebx + Cpu.cpuidEdx(1, 0);
    }

    public static long perCpu(long delta) {
        cpuTicks += delta;
        return cpuTicks + cpuNumber;
    }
}
