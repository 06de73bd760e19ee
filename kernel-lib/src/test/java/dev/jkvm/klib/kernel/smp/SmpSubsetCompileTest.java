package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.KernelCodeDisassembly;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every smp class is kernel code: the subset compiler must accept all of it. */
class SmpSubsetCompileTest {
    private static KernelCodeDisassembly code;

    @BeforeAll
    static void compile() throws Exception {
        code = KernelCodeDisassembly.compile(CpuMask.class, IpiReason.class, IpiSend.class, IpiMailbox.class,
                CallFunctionDispatch.class, CallFunction.class, TlbInvalidate.class, TlbInstructions.class,
                TlbShootdown.class, MailboxHandler.class, RemoteCall.class);
    }

    @Test
    void needsExactlyTheDocumentedKernelRoutines() {
        assertEquals(Set.of(IpiSend.SYMBOL, IpiSend.ALL_OTHERS_SYMBOL, CallFunctionDispatch.SYMBOL, TlbInvalidate.PAGE_SYMBOL,
                TlbInvalidate.ADDRESS_SPACE_SYMBOL, TlbInvalidate.ALL_SYMBOL), code.externals());
    }

    @Test
    void tlbInstructionsCompileToInvlpgAndControlRegisterWrites() {
        assertTrue(code.contains("TlbInstructions.invalidatePage", "invlpg"));
        assertTrue(code.method("TlbInstructions.flushAddressSpace").stream().anyMatch(t -> t.matches("mov %r\\w+,%cr3")),
                () -> String.join("\n", code.method("TlbInstructions.flushAddressSpace")));
        assertEquals(2, code.method("TlbInstructions.flushAll").stream().filter(t -> t.matches("mov %r\\w+,%cr4")).count());
    }

    @Test
    void handlersTakeTheirBitWithCasAndThePingCountWithOneExchange() {
        assertTrue(code.contains("IpiMailbox.takePings", "xchg"));
        assertTrue(code.contains("IpiMailbox.takeReasons", "lock cmpxchg"));
        assertTrue(code.contains("IpiMailbox.post", "lock cmpxchg"));
    }
}
