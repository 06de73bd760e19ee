package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** Two vCPUs on two threads hammer the same words with locked instructions: every update must count. */
class LockConcurrencyTest {
    private static final int ITERATIONS = 200_000;

    @Test
    void lockedReadModifyWritesAreAtomicAcrossVcpus() throws Exception {
        IsaMachine a = new IsaMachine(Decoder.MODE64);
        IsaMachine b = new IsaMachine(Decoder.MODE64, a);
        // mov ecx, 200000; mov edi, 0x20000
        // l: mov eax, 1; lock xadd [rdi], eax; lock inc qword [rdi+8]; lock add dword [rdi+17], 3  (split: not 4-aligned)
        //    mov eax, [rdi+24]; r: lea edx, [rax+1]; lock cmpxchg [rdi+24], edx; jnz r
        //    dec ecx; jnz l; hlt
        a.load(IsaMachine.CODE, IsaMachine.hex("b9400d0300bf00000200b801000000f00fc107f048ff4708f0834711038b47188d5001f00fb1571875f6ffc975dc" + "f4"));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[2];
        IsaMachine[] ms = {a, b};
        for (int i = 0; i < 2; i++) {
            IsaMachine m = ms[i];
            threads[i] = new Thread(() -> {
                try {
                    m.s.rip = IsaMachine.CODE;
                    m.resume();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            threads[i].start();
        }
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertEquals(2L * ITERATIONS, a.mem(0x20000, 4), "lock xadd");
        assertEquals(2L * ITERATIONS, a.mem(0x20008, 8), "lock inc");
        assertEquals(3L * 2 * ITERATIONS, a.mem(0x20011, 4), "lock add on a split operand");
        assertEquals(2L * ITERATIONS, a.mem(0x20018, 4), "lock cmpxchg loop");
    }
}
