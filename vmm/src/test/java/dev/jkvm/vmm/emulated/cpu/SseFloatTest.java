package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/**
 * What the host-processor oracle cannot run in the JVM: unmasked SIMD floating-point exceptions
 * (#XM with CR4.OSXMMEXCPT, else #UD; the destination unchanged, the flag set — SDM Vol. 1
 * §11.5.1, Vol. 3A §6.15 vector 19), and memory operands (scalar ones unaligned, packed ones
 * 16-byte aligned or #GP(0)).
 */
class SseFloatTest {
    private static final long ONE = Double.doubleToRawLongBits(1.0);
    private static final int ZM = 1 << 9, ZE = 1 << 2, PM = 1 << 12, PE = 1 << 5;

    private static IsaMachine machine() {
        IsaMachine m = new IsaMachine(Decoder.MODE64);
        m.s.xmm[0] = ONE;
        m.s.xmm[1] = 0x1234;
        m.s.xmm[2] = 0; // xmm1 = +0.0
        return m;
    }

    private static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) b.putDouble(d);
        return b.array();
    }

    @Test
    void anUnmaskedDivideByZeroRaisesXmAndLeavesTheDestination() {
        IsaMachine m = machine();
        m.s.mxcsr = 0x1F80 & ~ZM;
        CpuException e = m.runExpectingFault("f20f5ec1"); // divsd xmm0, xmm1
        assertEquals(CpuException.XM, e.vector);
        assertEquals(ONE, m.s.xmm[0]);
        assertEquals(0x1234, m.s.xmm[1]);
        assertEquals(0x1F80 & ~ZM | ZE, m.s.mxcsr);
    }

    @Test
    void withoutOsxmmexceptTheUnmaskedExceptionIsUd() {
        IsaMachine m = machine();
        m.s.cr4 &= ~(1L << 10);
        m.s.mxcsr = 0x1F80 & ~ZM;
        assertEquals(CpuException.UD, m.runExpectingFault("f20f5ec1").vector);
        assertEquals(ONE, m.s.xmm[0]);
    }

    @Test
    void anUnmaskedInexactResultRaisesXm() {
        IsaMachine m = machine();
        m.s.xmm[2] = Double.doubleToRawLongBits(3.0);
        m.s.mxcsr = 0x1F80 & ~PM;
        assertEquals(CpuException.XM, m.runExpectingFault("f20f5ec1").vector); // 1/3
        assertEquals(ONE, m.s.xmm[0]);
        assertEquals(0x1F80 & ~PM | PE, m.s.mxcsr);
    }

    @Test
    void anUnmaskedPreComputationExceptionSuppressesTheOtherElementsPostComputationFlags() {
        IsaMachine m = machine();
        m.s.xmm[1] = ONE;
        m.s.xmm[2] = 0;                                     // lane 0: 1/0, ZE (unmasked)
        m.s.xmm[3] = Double.doubleToRawLongBits(3.0);       // lane 1: 1/3, PE (masked)
        m.s.mxcsr = 0x1F80 & ~ZM;
        assertEquals(CpuException.XM, m.runExpectingFault("660f5ec1").vector); // divpd xmm0, xmm1
        assertEquals(0x1F80 & ~ZM | ZE, m.s.mxcsr);
        assertEquals(ONE, m.s.xmm[1]);
    }

    @Test
    void maskedDivideByZeroGivesInfinity() {
        IsaMachine m = machine();
        m.run("f20f5ec1");
        assertEquals(Double.doubleToRawLongBits(Double.POSITIVE_INFINITY), m.s.xmm[0]);
        assertEquals(0x1234, m.s.xmm[1]);
        assertEquals(0x1F80 | ZE, m.s.mxcsr);
    }

    @Test
    void scalarMemoryOperandsNeedNoAlignment() {
        IsaMachine m = machine();
        m.load(IsaMachine.DATA + 3, doubles(2.5, -7.9));
        m.run("f20f58042503000200"            // addsd xmm0, [0x20003]
                + "f2480f2c04250b000200");     // cvttsd2si rax, [0x2000b]
        assertEquals(Double.doubleToRawLongBits(3.5), m.s.xmm[0]);
        assertEquals(0x1234, m.s.xmm[1]);
        assertEquals(-7, m.reg(0));
        assertEquals(0x1F80 | PE, m.s.mxcsr);
    }

    @Test
    void packedMemoryOperandsMustBeAligned() {
        IsaMachine m = machine();
        m.load(IsaMachine.DATA, doubles(2.0, 4.0, 8.0));
        m.run("660f59042500000200"); // mulpd xmm0, [0x20000]
        assertEquals(Double.doubleToRawLongBits(2.0), m.s.xmm[0]);
        assertEquals(Double.doubleToRawLongBits(4.0 * Double.longBitsToDouble(0x1234)), m.s.xmm[1]);
        assertEquals(CpuException.GP, m.runExpectingFault("660f59042508000200").vector);
    }
}
