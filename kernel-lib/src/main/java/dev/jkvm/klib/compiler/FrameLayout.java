package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Reg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a method keeps its locals and operand stack (register allocation).
 *
 * Operand stack entry d lives in STACK_REGISTERS[d]; deeper entries, and entries that must
 * survive a call, use one frame slot per depth. rax, rcx and rdx are never homes: they are the
 * scratch registers that idiv, shifts, cpuid and the parallel moves need.
 *
 * Locals are allocated greedily by use count weighted by loop nesting. A method without calls
 * gets the caller-saved registers the operand stack does not use (preferring the register a
 * parameter arrives in), then callee-saved ones; a method with calls gets only callee-saved
 * registers, so locals survive calls without save and restore code. The rest go to frame slots.
 * The frame: [rbp] saved rbp, then the callee-saved registers in use, then the slots.
 */
final class FrameLayout {
    static final List<Reg> STACK_REGISTERS = List.of(Reg.R10, Reg.R11, Reg.R9, Reg.R8, Reg.RDI, Reg.RSI);
    private static final List<Reg> LEAF_LOCAL_PREFERENCE = List.of(Reg.RSI, Reg.RDI, Reg.R8, Reg.R9, Reg.R11, Reg.R10);

    private final Operand.Location[] localHomes;
    private final Operand.Location[] stackHomes;
    private final Mem[] stackSaveSlots;
    private final List<Reg> savedRegisters;
    private final int slotBytes;

    /**
     * @param maxLocals     JVM max_locals
     * @param maxStack      JVM max_stack
     * @param weights       per local slot use weight, 0 when unused
     * @param parameterSlots local slot of each parameter, in order
     * @param hasCalls      whether the method calls anything that clobbers caller-saved registers
     * @param registerOnlyFrom slots from this one on get a register or nothing (no frame slot):
     *                      values that can be recomputed, such as the address of a constant array
     */
    FrameLayout(int maxLocals, int maxStack, long[] weights, int[] parameterSlots, boolean hasCalls,
            int registerOnlyFrom) {
        int stackRegisterCount = Math.min(maxStack, STACK_REGISTERS.size());
        Set<Reg> free = new LinkedHashSet<>();
        if (!hasCalls) {
            for (Reg r : LEAF_LOCAL_PREFERENCE) {
                if (STACK_REGISTERS.indexOf(r) >= stackRegisterCount) {
                    free.add(r);
                }
            }
        }
        free.addAll(CallingConvention.CALLEE_SAVED);

        localHomes = new Operand.Location[maxLocals];
        Integer[] order = new Integer[maxLocals];
        for (int i = 0; i < maxLocals; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong((Integer slot) -> -weights[slot]));
        // A parameter whose arrival register is free keeps it: no move in the prologue.
        for (int p = 0; p < parameterSlots.length && p < CallingConvention.ARGUMENT_REGISTERS.size(); p++) {
            Reg arrival = CallingConvention.ARGUMENT_REGISTERS.get(p);
            int slot = parameterSlots[p];
            if (weights[slot] > 0 && free.contains(arrival) && !CallingConvention.CALLEE_SAVED.contains(arrival)) {
                localHomes[slot] = Operand.of(arrival);
                free.remove(arrival);
            }
        }
        List<Integer> spilled = new ArrayList<>();
        for (int slot : order) {
            if (weights[slot] == 0 || localHomes[slot] != null) {
                continue;
            }
            if (!free.isEmpty()) {
                Reg r = free.iterator().next();
                free.remove(r);
                localHomes[slot] = Operand.of(r);
            } else if (slot < registerOnlyFrom) {
                spilled.add(slot);
            }
        }
        List<Reg> saved = new ArrayList<>();
        for (Reg r : CallingConvention.CALLEE_SAVED) {
            if (Arrays.asList(localHomes).contains(Operand.of(r))) {
                saved.add(r);
            }
        }
        savedRegisters = List.copyOf(saved);
        int slot = 0;
        for (int local : spilled) {
            localHomes[local] = Operand.of(frameSlot(slot++));
        }
        stackHomes = new Operand.Location[maxStack];
        stackSaveSlots = new Mem[maxStack];
        for (int d = 0; d < maxStack; d++) {
            if (d < stackRegisterCount) {
                stackHomes[d] = Operand.of(STACK_REGISTERS.get(d));
                if (hasCalls) {
                    stackSaveSlots[d] = frameSlot(slot++);
                }
            } else {
                Mem m = frameSlot(slot++);
                stackHomes[d] = Operand.of(m);
                stackSaveSlots[d] = m;
            }
        }
        slotBytes = slot * 8;
    }

    private Mem frameSlot(int index) {
        return Mem.at(Reg.RBP, -8L * (savedRegisters.size() + 1 + index));
    }

    /** Register or memory holding the local, or null when the method never uses it. */
    Operand.Location localHome(int slot) {
        return localHomes[slot];
    }

    /** Register or memory of operand stack depth d. */
    Operand.Location stackHome(int depth) {
        return stackHomes[depth];
    }

    /** Frame slot where a register-held stack entry of depth d waits out a call. */
    Mem stackSaveSlot(int depth) {
        return stackSaveSlots[depth];
    }

    /** Callee-saved registers to push after rbp, in push order. */
    List<Reg> savedRegisters() {
        return savedRegisters;
    }

    /** Bytes to subtract from rsp after the pushes so that rsp stays 16-byte aligned. */
    int extraFrameBytes() {
        int pushed = 8 * savedRegisters.size();
        int total = (pushed + slotBytes + 15) & ~15;
        return total - pushed;
    }
}
