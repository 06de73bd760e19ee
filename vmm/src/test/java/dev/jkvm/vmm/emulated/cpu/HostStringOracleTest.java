package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * MOVS/CMPS/STOS/LODS/SCAS in every size, with no prefix, REP/REPE and REPNE, DF clear and set,
 * over a 64-byte window (RSI in its first half, RDI in its second), on the emulator and natively:
 * RSI/RDI (relative to the window), RCX, RAX, the arithmetic flags and the window must agree.
 */
class HostStringOracleTest {
    @Test
    void stringInstructionsAgreeWithTheHostProcessor() {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        Random rnd = new Random(9);
        IsaMachine m = new IsaMachine(Decoder.MODE64);
        HexFormat hex = HexFormat.of();
        List<String> failures = new ArrayList<>();
        int run = 0;
        int[] opcodes = {0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF};
        try (HostCpu host = new HostCpu()) {
            for (int op : opcodes) {
                for (int n = 0; n < 150; n++) {
                    boolean byteForm = (op & 1) == 0;
                    int size = byteForm ? 1 : new int[] {2, 4, 8}[rnd.nextInt(3)];
                    int rep = rnd.nextInt(3); // none, F3, F2
                    boolean down = rnd.nextBoolean();
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    if (size == 2) out.write(0x66);
                    if (rep == 1) out.write(0xF3);
                    if (rep == 2) out.write(0xF2);
                    if (size == 8) out.write(0x48);
                    out.write(op);
                    byte[] insn = out.toByteArray();
                    byte[] data = new byte[HostCpu.DATA_SIZE];
                    for (int i = 0; i < data.length; i++) data[i] = (byte) (rnd.nextInt(4) == 0 ? rnd.nextInt(256) : rnd.nextInt(2));
                    int half = HostCpu.DATA_SIZE / 2;
                    long si = down ? half - size : 0, di = down ? HostCpu.DATA_SIZE - size : half;
                    long count = rnd.nextInt(half / size + 1);
                    long[] regs = new long[16];
                    for (int r : HostCpu.REGISTERS) regs[r] = rnd.nextLong();
                    regs[0] = rnd.nextBoolean() ? rnd.nextInt(2) : regs[0];
                    regs[1] = count | (rnd.nextBoolean() ? 0 : 0xFFFF_FFFF_0000_0000L & 0); // RCX
                    long flagsIn = (rnd.nextLong() & Flags.ARITH) | 0x202 | (down ? Flags.DF : 0);

                    long[] hostRegs = regs.clone();
                    hostRegs[6] = host.dataAddress() + si;
                    hostRegs[7] = host.dataAddress() + di;
                    host.setData(data);
                    long hostFlags = host.run(insn, hostRegs, flagsIn);
                    byte[] hostData = host.data();
                    hostRegs[6] = hostRegs[6] - host.dataAddress() + IsaMachine.DATA;
                    hostRegs[7] = hostRegs[7] - host.dataAddress() + IsaMachine.DATA;

                    m.load(IsaMachine.DATA, data);
                    for (int r = 0; r < 16; r++) m.s.gpr[r] = regs[r];
                    m.s.gpr[6] = IsaMachine.DATA + si;
                    m.s.gpr[7] = IsaMachine.DATA + di;
                    m.s.gpr[CpuState.RSP] = IsaMachine.STACK;
                    Flags.set(m.s, flagsIn);
                    StringBuilder b = new StringBuilder();
                    try {
                        m.run(hex.formatHex(insn));
                        for (int r : HostCpu.REGISTERS) {
                            if (hostRegs[r] != m.s.gpr[r]) b.append(" r").append(r).append(" host ").append(Long.toHexString(hostRegs[r]))
                                    .append(" emulated ").append(Long.toHexString(m.s.gpr[r]));
                        }
                        long mask = Flags.ARITH | Flags.DF;
                        if ((hostFlags & mask) != (Flags.get(m.s) & mask)) b.append(" flags host ").append(Long.toHexString(hostFlags & mask))
                                .append(" emulated ").append(Long.toHexString(Flags.get(m.s) & mask));
                        for (int i = 0; i < data.length; i++) {
                            if ((byte) m.mem(IsaMachine.DATA + i, 1) != hostData[i]) {
                                b.append(" memory byte ").append(i);
                                break;
                            }
                        }
                    } catch (CpuException e) {
                        b.append(" emulator raised vector ").append(e.vector);
                    }
                    run++;
                    if (!b.isEmpty() && failures.size() < 30) {
                        failures.add("[" + hex.formatHex(insn) + "] count " + count + (down ? " DF=1" : " DF=0") + ":" + b);
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " disagreements of " + run + ":\n" + String.join("\n", failures));
    }
}
