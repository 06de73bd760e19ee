package dev.jkvm.klib.asm;

/** An instruction or directive that cannot be encoded; the message names the instruction and the fix. */
public final class AsmException extends RuntimeException {
    public AsmException(String message) {
        super(message);
    }
}
