package dev.jkvm.klib.nativecode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What HotSpot's fatal error log (hs_err_pid*.log, written when native code crashes the JVM)
 * says about the crash: the signal with its si_addr (for SIGSEGV and SIGBUS the faulting
 * address, POSIX sigaction(2)) and the problematic frame.
 */
record HsErrReport(String signal, String address, String frame, Path file) {
    private static final Pattern SIGINFO = Pattern.compile(
            "siginfo: si_signo: \\d+ \\((\\w+)\\), si_code: \\d+ \\(([\\w-]+)\\)(?:, si_addr: (0x[0-9a-fA-F]+))?");

    static HsErrReport read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            return new HsErrReport("unknown signal", "unknown", "unknown (" + e.getMessage() + ")", file);
        }
        String signal = "unknown signal";
        String address = "unknown";
        String frame = "unknown";
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = SIGINFO.matcher(lines.get(i));
            if (m.find() && signal.startsWith("unknown")) {
                signal = m.group(1) + " (" + m.group(2) + ")";
                address = m.group(3) == null ? "none" : m.group(3);
            }
            if (lines.get(i).startsWith("# Problematic frame:") && i + 1 < lines.size()) {
                frame = lines.get(i + 1).replaceFirst("^#\\s*", "");
            }
        }
        return new HsErrReport(signal, address, frame, file);
    }

    @Override
    public String toString() {
        return signal + " at address " + address + " in " + frame + " (report " + file + ")";
    }
}
