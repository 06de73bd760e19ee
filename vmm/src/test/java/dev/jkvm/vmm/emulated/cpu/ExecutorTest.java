package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Small programs (assembled with GNU as, bytes inline with their source) run on the flat test machine. */
class ExecutorTest {

    private static IsaMachine m64() {
        return new IsaMachine(Decoder.MODE64);
    }

    @Test
    void loopSums() {
        // mov ecx, 10; xor eax, eax; l: add eax, ecx; loop l
        IsaMachine m = m64().run("b90a00000031c001c8e2fc");
        assertEquals(55, m.reg(CpuState.RAX));
        assertEquals(0, m.reg(CpuState.RCX));
    }

    @Test
    void callAndReturn() {
        // mov edi, 10; call f; jmp e; f: lea eax,[rdi+rdi*2]; ret; e: nop
        IsaMachine m = m64().run("bf0a000000e802000000eb048d047fc390");
        assertEquals(30, m.reg(CpuState.RAX));
        assertEquals(IsaMachine.STACK, m.reg(CpuState.RSP));
    }

    @Test
    void repMovsbCopies() {
        IsaMachine m = m64();
        for (int i = 0; i < 100; i++) m.memory.write(0x21000 + i, 1, i + 1);
        // mov rdi, 0x20000; mov rsi, 0x21000; mov rcx, 100; rep movsb
        m.run("48c7c70000020048c7c60010020048c7c164000000f3a4");
        for (int i = 0; i < 100; i++) assertEquals(i + 1, m.mem(0x20000 + i, 1));
        assertEquals(0, m.mem(0x20000 + 100, 1));
        assertEquals(0x20000 + 100, m.reg(CpuState.RDI));
        assertEquals(0, m.reg(CpuState.RCX));
    }

    @Test
    void repStosqLongerThanOneChunkYieldsAndResumes() {
        IsaMachine m = m64();
        // mov rdi, 0x20000; mov rax, 0x1122334455667788; mov rcx, 3000; rep stosq
        m.run("48c7c70000020048b88877665544332211" + "48c7c1b80b0000" + "f348ab");
        for (int i = 0; i < 3000; i++) assertEquals(0x1122334455667788L, m.mem(0x20000 + 8L * i, 8));
        assertEquals(0, m.mem(0x20000 + 8L * 3000, 8));
        assertEquals(0x20000 + 8L * 3000, m.reg(CpuState.RDI));
    }

    @Test
    void repneScasbStopsAtMatch() {
        IsaMachine m = m64();
        m.memory.write(0x20000 + 9, 1, 0x55);
        // mov rdi, 0x20000; mov al, 0x55; mov rcx, 64; repne scasb
        m.run("48c7c700000200b05548c7c140000000f2ae");
        assertEquals(0x20000 + 10, m.reg(CpuState.RDI));
        assertEquals(64 - 10, m.reg(CpuState.RCX));
        assertTrue((m.flags() & Flags.ZF) != 0);
    }

    @Test
    void divideByZeroRaisesDeAtTheInstruction() {
        // mov rax, 1; mov rdx, 0; mov rbx, 0; div rbx
        IsaMachine m = m64();
        CpuException e = m.runExpectingFault("48c7c00100000048c7c20000000048c7c30000000048f7f3");
        assertEquals(CpuException.DE, e.vector);
        assertEquals(IsaMachine.CODE + 21, m.s.rip);
    }

    @Test
    void cmpxchg16bSucceedsAndFails() {
        IsaMachine m = m64();
        m.memory.write(0x20000, 8, 1);
        m.memory.write(0x20008, 8, 2);
        String code = "48c7c70000020048c7c00100000048c7c20200000048c7c30300000048c7c104000000f0480fc70f";
        m.run(code);
        assertEquals(3, m.mem(0x20000, 8));
        assertEquals(4, m.mem(0x20008, 8));
        assertTrue((m.flags() & Flags.ZF) != 0);
        m.run(code); // memory now holds 3:4, RDX:RAX = 2:1 -> fails, loads 3:4
        assertEquals(3, m.reg(CpuState.RAX));
        assertEquals(4, m.reg(CpuState.RDX));
        assertEquals(0, m.flags() & Flags.ZF);
    }

    @Test
    void cmpxchg16bMisalignedIsGp() {
        IsaMachine m = m64();
        // mov rdi, 0x20008 ... lock cmpxchg16b [rdi]
        CpuException e = m.runExpectingFault("48c7c70800020048c7c00100000048c7c20200000048c7c30300000048c7c104000000f0480fc70f");
        assertEquals(CpuException.GP, e.vector);
    }

    @Test
    void pushPopAndPushf() {
        // push 0x1234; pop rbx; push rbx; pushfq; pop rcx
        IsaMachine m = m64().run("68341200005b539c59");
        assertEquals(0x1234, m.reg(CpuState.RBX));
        assertEquals(0x1234, m.mem(IsaMachine.STACK - 8, 8));
        assertEquals(2, m.reg(CpuState.RCX) & 2);
    }

    @Test
    void bswapMovzxMovsx() {
        // mov eax, 0x12345678; bswap eax; movzx ebx, ah; movsx rcx, al
        IsaMachine m = m64().run("b8785634120fc80fb6dc480fbec8");
        assertEquals(0x78563412L, m.reg(CpuState.RAX));
        assertEquals(0x34, m.reg(CpuState.RBX));
        assertEquals(0x12, m.reg(CpuState.RCX));
    }

    @Test
    void sseIntegerOps() {
        // pxor xmm0,xmm0; mov eax,5; movd xmm1,eax; pshufd xmm1,xmm1,0; paddd xmm0,xmm1 (x2);
        // movdqu [rip+0x100],xmm0; movq rbx,xmm0
        IsaMachine m = m64().run("660fefc0b805000000660f6ec8660f70c900660ffec1660ffec1f30f7f050001000066480f7ec3");
        assertEquals(0x0000000A_0000000AL, m.reg(CpuState.RBX));
        long at = IsaMachine.CODE + 0x22 + 0x100; // end of the movdqu (offset 0x22) + disp
        assertEquals(0x0000000A_0000000AL, m.mem(at, 8));
        assertEquals(0x0000000A_0000000AL, m.mem(at + 8, 8));
    }

    @Test
    void sseWithoutOsfxsrIsUd() {
        IsaMachine m = m64();
        m.s.cr4 &= ~(1L << 9);
        assertEquals(CpuException.UD, m.runExpectingFault("660fefc0").vector);
        m.s.cr4 |= 1L << 9;
        m.s.cr0 |= 8; // TS
        assertEquals(CpuException.NM, m.runExpectingFault("660fefc0").vector);
    }

    @Test
    void selfModifyingCodeInTheSameBlockIsSeen() {
        // mov rbx, 0x1000; mov byte ptr [rbx+0xc], 2; mov al, 1   (the store patches mov al's immediate)
        IsaMachine m = m64().run("48c7c300100000c6430c02b001");
        assertEquals(2, m.reg(CpuState.RAX) & 0xFF);
        // Run again from the top: the cached block for the page was invalidated and re-decoded.
        m.s.rip = IsaMachine.CODE;
        m.resume();
        assertEquals(2, m.reg(CpuState.RAX) & 0xFF);
    }

    @Test
    void protectedMode32() {
        // mov ecx, 3; xor eax,eax; l: add eax, 7; dec ecx; jnz l; push eax; pop ebx
        IsaMachine m = new IsaMachine(Decoder.MODE32).run("b90300000031c083c0074975fa505b");
        assertEquals(21, m.reg(CpuState.RBX));
        assertEquals(IsaMachine.STACK, m.reg(CpuState.RSP));
    }

    @Test
    void realMode16() {
        // mov cx, 3; xor ax,ax; l: add ax, 7; loop l; mov bx, 0x2000; mov [bx+si], ax; mov dx, [bx]
        IsaMachine m = new IsaMachine(Decoder.MODE16).run("b9030031c083c007e2fbbb002089008b17");
        assertEquals(21, m.reg(CpuState.RDX));
        assertEquals(21, m.mem(0x2000, 2));
    }

    @Test
    void unimplementedOpcodeIsUdAndCounted() {
        IsaMachine m = m64();
        // fld1 (x87 arithmetic is not implemented)
        for (int i = 0; i < 2; i++) assertEquals(CpuException.UD, m.runExpectingFault("d9e8").vector);
        assertEquals(java.util.List.of("unimplemented opcode d9 e8 at RIP 0x1000 (2 times)"), m.executor.unimplemented().lines());
    }

    @Test
    void ud2IsUdButNotCounted() {
        IsaMachine m = m64();
        assertEquals(CpuException.UD, m.runExpectingFault("0f0b").vector);
        assertTrue(m.executor.unimplemented().isEmpty());
    }

    @Test
    void lockOnRegisterFormIsUd() {
        IsaMachine m = m64();
        assertEquals(CpuException.UD, m.runExpectingFault("f001d8").vector); // lock add eax, ebx
        assertEquals(CpuException.UD, m.runExpectingFault("f089 07".replace(" ", "")).vector); // lock mov [rdi], eax
    }

    @Test
    void fxsaveLayoutAndFxrstorRoundTrip() {
        IsaMachine m = m64();
        m.s.xmm[0] = 0x1111_2222_3333_4444L;
        m.s.xmm[1] = 0x5555_6666_7777_8888L;
        m.s.xmm[30] = 0x0F0F;
        m.s.xmm[31] = 0xF0F0;
        m.s.mxcsr = 0x1FA0;
        m.s.fpuControl = 0x027F;
        // mov edi, 0x20000; fxsave [rdi]; pxor xmm0, xmm0; pxor xmm15, xmm15; fxrstor [rdi]
        m.run("bf000002000fae07660fefc066450fefff0fae0f");
        // SDM Vol. 1 Table 10-2: FCW at 0, MXCSR at 24, MXCSR_MASK at 28, XMM0 at 160, XMM15 at 400.
        assertEquals(0x027F, m.mem(0x20000, 2));
        assertEquals(0x1FA0, m.mem(0x20000 + 24, 4));
        assertEquals(Sse.MXCSR_MASK, m.mem(0x20000 + 28, 4));
        assertEquals(0x1111_2222_3333_4444L, m.mem(0x20000 + 160, 8));
        assertEquals(0x5555_6666_7777_8888L, m.mem(0x20000 + 168, 8));
        assertEquals(0x0F0F, m.mem(0x20000 + 400, 8));
        assertEquals(0xF0F0, m.mem(0x20000 + 408, 8));
        assertEquals(0x1111_2222_3333_4444L, m.s.xmm[0], "restored by FXRSTOR");
        assertEquals(0xF0F0, m.s.xmm[31], "restored by FXRSTOR");
    }

    @Test
    void fxsaveMisalignedIsGpAndFxrstorChecksMxcsr() {
        IsaMachine m = m64();
        assertEquals(CpuException.GP, m.runExpectingFault("bf080002000fae07").vector); // fxsave [0x20008]
        m.memory.write(0x20000 + 24, 4, 0x10000); // a reserved MXCSR bit
        assertEquals(CpuException.GP, m.runExpectingFault("bf000002000fae0f").vector); // fxrstor [0x20000]
        m.s.cr0 |= 8; // TS
        assertEquals(CpuException.NM, m.runExpectingFault("bf000002000fae07").vector);
    }

    @Test
    void stepAndStepBlock() {
        IsaMachine m = m64();
        // mov ecx, 3; l: dec ecx; jnz l; hlt
        m.load(IsaMachine.CODE, IsaMachine.hex("b903000000" + "ffc9" + "75fc" + "f4"));
        m.s.rip = IsaMachine.CODE;
        m.executor.step();
        assertEquals(IsaMachine.CODE + 5, m.s.rip);
        assertEquals(3, m.reg(CpuState.RCX));
        assertEquals(2, m.executor.stepBlock()); // dec; jnz (taken): the block ends at the branch
        assertEquals(IsaMachine.CODE + 5, m.s.rip);
        assertEquals(2, m.reg(CpuState.RCX));
    }
}
