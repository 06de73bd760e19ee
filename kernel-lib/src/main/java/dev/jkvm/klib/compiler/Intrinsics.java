package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.lang.constant.MethodTypeDesc;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Calls to the dev.jkvm.klib.rt classes, compiled to the instructions their names promise
 * (the Java bodies of those classes are their host-JVM semantics). Operands go through the
 * scratch registers rax, rcx and rdx, which hold no locals or stack values.
 */
final class Intrinsics {
    private static final String PACKAGE = "dev/jkvm/klib/rt/";

    private Intrinsics() {
    }

    /** Whether the intrinsic is a real call (clobbers caller-saved registers). */
    static boolean isCall(String owner, String name) {
        String cls = owner.substring(PACKAGE.length());
        return cls.equals("Console") || cls.equals("Asm");
    }

    static void emit(MethodTranslator t, MethodRef ref) {
        String cls = ref.owner().substring(PACKAGE.length());
        String name = ref.name();
        Assembler a = t.a;
        switch (cls + "." + name) {
            case "Memory.load8" -> load(t, 8);
            case "Memory.load16" -> load(t, 16);
            case "Memory.load32" -> load(t, 32);
            case "Memory.load64" -> load(t, 64);
            case "Memory.store8" -> store(t, 8);
            case "Memory.store16" -> store(t, 16);
            case "Memory.store32" -> store(t, 32);
            case "Memory.store64" -> store(t, 64);
            case "Atomic.compareAndSet32", "Atomic.compareAndSet32Acquire", "Atomic.compareAndSet32Release" ->
                    compareAndSet(t, 32);
            case "Atomic.compareAndSet64", "Atomic.compareAndSet64Acquire", "Atomic.compareAndSet64Release" ->
                    compareAndSet(t, 64);
            case "Atomic.exchange32", "Atomic.exchange32Acquire", "Atomic.exchange32Release" ->
                    readModifyWrite(t, 32, false, true);
            case "Atomic.exchange64", "Atomic.exchange64Acquire", "Atomic.exchange64Release" ->
                    readModifyWrite(t, 64, false, true);
            case "Atomic.fetchAdd32", "Atomic.fetchAdd32Acquire", "Atomic.fetchAdd32Release" ->
                    readModifyWrite(t, 32, true, true);
            case "Atomic.fetchAdd64", "Atomic.fetchAdd64Acquire", "Atomic.fetchAdd64Release" ->
                    readModifyWrite(t, 64, true, true);
            case "Atomic.loadVolatile32" -> load(t, 32);
            case "Atomic.loadVolatile64" -> load(t, 64);
            // A volatile store must not pass a later load (Intel SDM Vol. 3A 9.2.3.4): XCHG orders it.
            case "Atomic.storeVolatile32" -> readModifyWrite(t, 32, false, false);
            case "Atomic.storeVolatile64" -> readModifyWrite(t, 64, false, false);
            case "Fence.full" -> a.mfence();
            case "Fence.acquire", "Fence.release" -> {
                // TSO (Intel SDM Vol. 3A 9.2.2) already gives these orders; the compiler keeps program order.
            }
            case "Port.in8" -> portIn(t, 8);
            case "Port.in16" -> portIn(t, 16);
            case "Port.in32" -> portIn(t, 32);
            case "Port.out8" -> portOut(t, 8);
            case "Port.out16" -> portOut(t, 16);
            case "Port.out32" -> portOut(t, 32);
            case "Msr.read" -> {
                t.stack.move(Reg.RCX, t.stack.operand(t.stack.pop()), 32);
                a.rdmsr();
                joinEdxEax(t);
            }
            case "Msr.write" -> {
                StackValue value = t.stack.pop();
                StackValue msr = t.stack.pop();
                t.stack.move(Reg.RAX, t.stack.operand(value), 64);
                t.stack.move(Reg.RCX, t.stack.operand(msr), 32);
                a.mov(Reg.RDX, Reg.RAX);
                a.shr(Reg.RDX, 32);
                a.wrmsr();
            }
            case "Cpu.readCr0" -> readControl(t, CtrlReg.CR0);
            case "Cpu.readCr2" -> readControl(t, CtrlReg.CR2);
            case "Cpu.readCr3" -> readControl(t, CtrlReg.CR3);
            case "Cpu.readCr4" -> readControl(t, CtrlReg.CR4);
            case "Cpu.writeCr0" -> writeControl(t, CtrlReg.CR0);
            case "Cpu.writeCr3" -> writeControl(t, CtrlReg.CR3);
            case "Cpu.writeCr4" -> writeControl(t, CtrlReg.CR4);
            case "Cpu.cpuidEax" -> cpuid(t, Reg.EAX);
            case "Cpu.cpuidEbx" -> cpuid(t, Reg.EBX);
            case "Cpu.cpuidEcx" -> cpuid(t, Reg.ECX);
            case "Cpu.cpuidEdx" -> cpuid(t, Reg.EDX);
            case "Cpu.rdtsc" -> {
                a.rdtsc();
                joinEdxEax(t);
            }
            case "Cpu.pause" -> a.pause();
            case "Cpu.hlt" -> a.hlt();
            case "Cpu.cli" -> a.cli();
            case "Cpu.sti" -> a.sti();
            case "Cpu.invlpg" -> a.invlpg(address(t, t.stack.pop(), Reg.RAX));
            case "Console.print" -> {
                if (!(t.stack.pop() instanceof StackValue.StringLiteral(String text))) {
                    throw t.violation("passes a computed String to Console.print: only string literals compile");
                }
                t.stack.saveAcrossCall();
                a.lea(Reg.RDI, Mem.rip(t.unit.string(text)));
                a.mov(Reg.ESI, text.getBytes(StandardCharsets.UTF_8).length);
                a.call(t.unit.external(SymbolNames.CONSOLE_PRINT));
            }
            case "Console.printHex" ->
                    t.call(t.unit.external(SymbolNames.CONSOLE_PRINT_HEX), t.stack.popArguments(1), 0);
            case "Asm.call" -> {
                int n = MethodTypeDesc.ofDescriptor(ref.descriptor()).parameterCount() - 1;
                List<StackValue> args = t.stack.popArguments(n);
                if (!(t.stack.pop() instanceof StackValue.StringLiteral(String symbol))) {
                    throw t.violation("passes a computed symbol to Asm.call: name the routine with a string literal");
                }
                t.call(t.unit.external(symbol), args, 64);
            }
            default -> throw t.violation("calls " + ref + ", which is host-only (no compiled form):"
                    + " call it from host code, not from kernel code");
        }
    }

    /** A memory operand for the address value: [reg] when it is in a register, else via scratch. */
    private static Mem address(MethodTranslator t, StackValue address, Reg scratch) {
        return Mem.at(t.stack.inRegister(t.stack.operand(address), 64, scratch));
    }

    private static void load(MethodTranslator t, int bits) {
        t.arithmetic.memoryLoad(address(t, t.stack.pop(), Reg.RAX), bits);
    }

    private static void store(MethodTranslator t, int bits) {
        StackValue value = t.stack.pop();
        Operand v = t.stack.operand(value);
        boolean viaRdx = switch (v) {
            case Operand.InMemory m -> true;
            case Operand.Constant(long imm) -> bits == 64 && !OperandStack.fitsInt(imm);
            case Operand.InRegister r -> false;
        };
        if (viaRdx) {
            t.stack.move(Reg.RDX, v, bits == 64 ? 64 : 32);
            v = Operand.of(Reg.RDX);
        }
        Mem m = address(t, t.stack.pop(), Reg.RAX).size(bits);
        switch (v) {
            case Operand.InRegister(Reg r) -> t.a.mov(m, r.withBits(bits));
            case Operand.Constant(long imm) -> t.a.mov(m, switch (bits) {
                case 8 -> (long) (byte) imm;
                case 16 -> (long) (short) imm;
                case 32 -> (long) (int) imm;
                default -> imm;
            });
            case Operand.InMemory mem -> throw new IllegalStateException("memory sources go through rdx above");
        }
    }

    private static void compareAndSet(MethodTranslator t, int bits) {
        StackValue update = t.stack.pop();
        StackValue expected = t.stack.pop();
        StackValue address = t.stack.pop();
        t.stack.move(Reg.RAX, t.stack.operand(expected), bits);
        t.stack.move(Reg.RDX, t.stack.operand(update), bits);
        Mem m = address(t, address, Reg.RCX).size(bits);
        t.a.lock().cmpxchg(m, Reg.RDX.withBits(bits));
        Reg r = t.stack.resultRegister(t.stack.size());
        t.a.setcc(Cond.E, Reg.AL);
        t.a.movzx(r.withBits(32), Reg.AL);
        t.stack.pushResult(r, false);
    }

    private static void readModifyWrite(MethodTranslator t, int bits, boolean add, boolean result) {
        StackValue value = t.stack.pop();
        StackValue address = t.stack.pop();
        t.stack.move(Reg.RDX, t.stack.operand(value), bits);
        Mem m = address(t, address, Reg.RCX).size(bits);
        if (add) {
            t.a.lock().xadd(m, Reg.RDX.withBits(bits));
        } else {
            t.a.xchg(m, Reg.RDX.withBits(bits));
        }
        if (result) {
            Reg r = t.stack.resultRegister(t.stack.size());
            t.stack.move(r, Reg.RDX, bits);
            t.stack.pushResult(r, bits == 64);
        }
    }

    private static void portIn(MethodTranslator t, int bits) {
        t.stack.move(Reg.RDX, t.stack.operand(t.stack.pop()), 32);
        Reg accumulator = Reg.RAX.withBits(bits);
        t.a.in(accumulator, Reg.DX);
        Reg r = t.stack.resultRegister(t.stack.size());
        if (bits == 32) {
            t.stack.move(r, Reg.RAX, 32);
        } else {
            t.a.movzx(r.withBits(32), accumulator);
        }
        t.stack.pushResult(r, false);
    }

    private static void portOut(MethodTranslator t, int bits) {
        StackValue value = t.stack.pop();
        StackValue port = t.stack.pop();
        t.stack.move(Reg.RAX, t.stack.operand(value), 32);
        t.stack.move(Reg.RDX, t.stack.operand(port), 32);
        t.a.out(Reg.DX, Reg.RAX.withBits(bits));
    }

    /** rax = edx:eax as RDMSR and RDTSC leave them (upper halves already zero in 64-bit mode). */
    private static void joinEdxEax(MethodTranslator t) {
        t.a.shl(Reg.RDX, 32);
        t.a.or(Reg.RAX, Reg.RDX);
        Reg r = t.stack.resultRegister(t.stack.size());
        t.stack.move(r, Reg.RAX, 64);
        t.stack.pushResult(r, true);
    }

    private static void readControl(MethodTranslator t, CtrlReg cr) {
        Reg r = t.stack.resultRegister(t.stack.size());
        t.a.mov(r, cr);
        t.stack.pushResult(r, true);
    }

    private static void writeControl(MethodTranslator t, CtrlReg cr) {
        t.stack.move(Reg.RAX, t.stack.operand(t.stack.pop()), 64);
        t.a.mov(cr, Reg.RAX);
    }

    /** CPUID clobbers rbx, which may hold a local: it is saved around the instruction. */
    private static void cpuid(MethodTranslator t, Reg wanted) {
        StackValue subleaf = t.stack.pop();
        StackValue leaf = t.stack.pop();
        t.stack.move(Reg.RAX, t.stack.operand(leaf), 32);
        t.stack.move(Reg.RCX, t.stack.operand(subleaf), 32);
        t.a.push(Reg.RBX);
        t.a.cpuid();
        Reg r = t.stack.resultRegister(t.stack.size());
        if (r.withBits(32) != wanted) {
            t.a.mov(r.withBits(32), wanted);
        }
        t.a.pop(Reg.RBX);
        t.stack.pushResult(r, false);
    }
}
