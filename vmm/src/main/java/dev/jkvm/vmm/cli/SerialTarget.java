package dev.jkvm.vmm.cli;

import java.nio.file.Path;

/** Where COM1 output goes: {@code stdio} or {@code file:PATH}. */
public record SerialTarget(Path file) {
    public static final SerialTarget STDIO = new SerialTarget(null);

    public boolean isStdio() { return file == null; }

    /** Parses {@code stdio} or {@code file:PATH}; IllegalArgumentException names the accepted forms. */
    public static SerialTarget parse(String text) {
        if (text.equals("stdio")) return STDIO;
        if (text.startsWith("file:") && text.length() > 5) return new SerialTarget(Path.of(text.substring(5)));
        throw new IllegalArgumentException("'" + text + "' is not a serial target; use stdio or file:PATH");
    }
}
