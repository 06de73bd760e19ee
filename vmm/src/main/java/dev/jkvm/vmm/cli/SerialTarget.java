package dev.jkvm.vmm.cli;

import java.nio.file.Path;
import picocli.CommandLine;

/** Where COM1 output goes: {@code stdio} or {@code file:PATH}. */
public record SerialTarget(Path file) {
    public static final SerialTarget STDIO = new SerialTarget(null);

    public boolean isStdio() { return file == null; }

    public static final class Converter implements CommandLine.ITypeConverter<SerialTarget> {
        @Override
        public SerialTarget convert(String text) {
            if (text.equals("stdio")) return STDIO;
            if (text.startsWith("file:") && text.length() > 5) return new SerialTarget(Path.of(text.substring(5)));
            throw new CommandLine.TypeConversionException("'" + text + "' is not a serial target; use stdio or file:PATH");
        }
    }
}
