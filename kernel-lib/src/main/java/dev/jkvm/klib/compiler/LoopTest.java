package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;

/**
 * The exit test at the head of a loop: "leave for exit when x exitCondition y", where x and y
 * are constants or locals (re-read wherever the test is repeated). A back edge repeats the
 * test with the condition inverted and jumps to body, the code right after the head's test:
 * one conditional jump per iteration instead of a jump to the head and a test there.
 */
record LoopTest(StackValue x, StackValue y, Cond exitCondition, int bits, Label exit, Label body) {
}
