package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Label;

/**
 * One row of a compiled unit's line table: from the code at {@code at} on (up to the next row
 * at a higher address) the instructions came from {@code line} of the method {@code frame}
 * names, written the way a Java stack trace names it without the line: "pkg.Class.method(File.java"
 * (or "(Unknown Source" when the class file has no SourceFile attribute, JVMS 4.7.10). A null
 * frame marks the end of a method: what follows is not compiled Java. line is -1 when the class
 * file has no LineNumberTable (JVMS 4.7.12).
 */
public record SourceLine(Label at, String frame, int line) {
}
