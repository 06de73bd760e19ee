package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Sregs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * A human-readable post-mortem of a vCPU the guest can no longer run (triple fault, emulation
 * failure, entry failure): registers, control registers, the code bytes at RIP, and — with a
 * {@link Symbolizer} — symbol names for RIP and a frame-pointer backtrace.
 */
public final class CrashReport {
    private CrashReport() {}

    /** Bytes of code shown at RIP: the longest x86 instruction is 15 bytes (SDM Vol. 2 §2.3.11). */
    public static final int CODE_BYTES = 16;
    /** Frames followed before giving up: enough for a kernel call chain, bounded against loops. */
    public static final int MAX_FRAMES = 32;

    /**
     * @param what   first line, e.g. "KVM_EXIT_SHUTDOWN (triple fault)"
     * @param detail extra exit data lines (suberror, internal data), or empty
     */
    public static String build(int vcpu, String what, String detail, Regs r, Sregs s, GuestMemory memory, Symbolizer symbols) {
        Symbolizer sym = symbols == null ? Symbolizer.NONE : symbols;
        StringBuilder b = new StringBuilder();
        b.append("vCPU ").append(vcpu).append(": ").append(what).append('\n');
        if (detail != null && !detail.isEmpty()) b.append(detail).append('\n');
        b.append(String.format("RAX=%016x RBX=%016x RCX=%016x RDX=%016x%n", r.rax(), r.rbx(), r.rcx(), r.rdx()));
        b.append(String.format("RSI=%016x RDI=%016x RBP=%016x RSP=%016x%n", r.rsi(), r.rdi(), r.rbp(), r.rsp()));
        b.append(String.format("R8 =%016x R9 =%016x R10=%016x R11=%016x%n", r.r8(), r.r9(), r.r10(), r.r11()));
        b.append(String.format("R12=%016x R13=%016x R14=%016x R15=%016x%n", r.r12(), r.r13(), r.r14(), r.r15()));
        b.append(String.format("RIP=%016x RFLAGS=%016x%n", r.rip(), r.rflags()));
        b.append("CS  ").append(s.cs()).append('\n');
        b.append("DS  ").append(s.ds()).append('\n');
        b.append("ES  ").append(s.es()).append('\n');
        b.append("FS  ").append(s.fs()).append('\n');
        b.append("GS  ").append(s.gs()).append('\n');
        b.append("SS  ").append(s.ss()).append('\n');
        b.append("TR  ").append(s.tr()).append('\n');
        b.append("GDT ").append(s.gdt()).append('\n');
        b.append("IDT ").append(s.idt()).append('\n');
        b.append(String.format("CR0=%016x CR2=%016x CR3=%016x CR4=%016x EFER=%016x%n",
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer()));

        GuestPageWalker walker = new GuestPageWalker(memory, s.cr0(), s.cr3(), s.cr4(), s.efer());
        boolean longMode = s.cs().l();
        long ripLinear = longMode ? r.rip() : (s.cs().base() + r.rip()) & 0xFFFF_FFFFL;
        long ripPhys = walker.translate(ripLinear);
        b.append(String.format("code at RIP (linear %x, %s, ", ripLinear, walker.mode()));
        if (ripPhys == GuestPageWalker.UNMAPPED) {
            b.append("not mapped)\n");
        } else {
            byte[] code = walker.readLinear(ripLinear, CODE_BYTES);
            b.append(String.format("physical %x): ", ripPhys));
            b.append(code.length == 0 ? "not RAM" : HexFormat.ofDelimiter(" ").formatHex(code)).append('\n');
        }
        String ripName = sym.symbolize(r.rip());
        if (ripName != null) b.append("RIP is ").append(ripName).append('\n');
        if (symbols != null) appendBacktrace(b, r, s, walker, sym, longMode);
        return b.toString();
    }

    /**
     * Follows saved frame pointers: [RBP] holds the caller's RBP and [RBP+word] the return
     * address (System V ABI with frame pointers kept). Stops at non-RAM, unmapped or
     * non-increasing frames, since a frame chain always grows toward older (higher) frames.
     */
    private static void appendBacktrace(StringBuilder b, Regs r, Sregs s, GuestPageWalker walker, Symbolizer sym, boolean longMode) {
        int word = longMode ? 8 : 4;
        long stackBase = longMode ? 0 : s.ss().base();
        long frame = longMode ? r.rbp() : r.rbp() & 0xFFFF_FFFFL;
        b.append("backtrace (frame pointers):\n");
        String top = sym.symbolize(r.rip());
        b.append(String.format("  #0 %016x %s%n", r.rip(), top == null ? "?" : top));
        for (int i = 1; i <= MAX_FRAMES && frame != 0; i++) {
            byte[] pair = walker.readLinear(stackBase + frame, 2 * word);
            if (pair.length < 2 * word) break;
            ByteBuffer bb = ByteBuffer.wrap(pair).order(ByteOrder.LITTLE_ENDIAN);
            long savedFrame = word == 8 ? bb.getLong(0) : Integer.toUnsignedLong(bb.getInt(0));
            long returnAddress = word == 8 ? bb.getLong(8) : Integer.toUnsignedLong(bb.getInt(4));
            if (returnAddress == 0) break;
            String name = sym.symbolize(returnAddress);
            b.append(String.format("  #%d %016x %s%n", i, returnAddress, name == null ? "?" : name));
            if (Long.compareUnsigned(savedFrame, frame) <= 0) break;
            frame = savedFrame;
        }
    }
}
