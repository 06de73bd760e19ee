package dev.jkvm.vmm.boot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's {@code -kernel} multiboot loader as the reference: boots a kernel whose entry is a
 * {@code hlt} under TCG, waits until the CPU halts there and reads guest RAM and registers back
 * over QMP. Nothing in the kernel runs before the {@code hlt}, so RAM holds exactly what QEMU's
 * loader placed.
 */
final class QemuMultiboot {
    private QemuMultiboot() {}

    static final String BINARY = "/usr/bin/qemu-system-x86_64";
    private static final int POLLS = 600;
    private static final Pattern REGISTER = Pattern.compile("(?<![A-Z])(EAX|EBX|EIP)=(\\p{XDigit}{8})");

    record Range(long address, long length) {}

    /** Registers at the halt and the guest bytes of each requested range. */
    record Snapshot(long eax, long ebx, long eip, List<byte[]> ranges) {}

    static boolean available() {
        return Files.isExecutable(Path.of(BINARY));
    }

    static Snapshot boot(Path kernel, List<Range> ranges) throws IOException, InterruptedException {
        Process qemu = new ProcessBuilder(BINARY, "-accel", "tcg", "-M", "pc", "-m", "64", "-display", "none",
                "-nodefaults", "-no-reboot", "-qmp", "stdio", "-kernel", kernel.toAbsolutePath().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8));
             Writer out = qemu.outputWriter(StandardCharsets.UTF_8)) {
            in.readLine();
            command(in, out, "{\"execute\":\"qmp_capabilities\"}");
            String registers = "";
            for (int i = 0; i < POLLS && !registers.contains("HLT=1"); i++) {
                if (i > 0) Thread.sleep(50);
                registers = command(in, out,
                        "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info registers\"}}");
            }
            if (!registers.contains("HLT=1")) throw new IllegalStateException("QEMU never reached the kernel's hlt: " + registers);
            List<byte[]> dumps = new ArrayList<>();
            for (int i = 0; i < ranges.size(); i++) {
                Path file = Binutils.TOOLCHAIN.dir().resolve("qemu-dump-" + i + ".bin").toAbsolutePath();
                command(in, out, "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":" + ranges.get(i).address()
                        + ",\"size\":" + ranges.get(i).length() + ",\"filename\":\"" + file + "\"}}");
                dumps.add(Files.readAllBytes(file));
            }
            command(in, out, "{\"execute\":\"quit\"}");
            return new Snapshot(register(registers, "EAX"), register(registers, "EBX"), register(registers, "EIP"), dumps);
        } finally {
            qemu.destroy();
            qemu.waitFor();
        }
    }

    /** Sends one QMP command and returns its "return" line, skipping asynchronous events. */
    private static String command(BufferedReader in, Writer out, String json) throws IOException {
        out.write(json + "\n");
        out.flush();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.contains("\"return\"")) return line;
            if (line.contains("\"error\"")) throw new IllegalStateException("QMP " + json + ": " + line);
        }
        throw new IllegalStateException("QEMU exited during " + json);
    }

    private static long register(String text, String name) {
        Matcher m = REGISTER.matcher(text);
        while (m.find()) if (m.group(1).equals(name)) return Long.parseLong(m.group(2), 16);
        throw new IllegalStateException("no " + name + " in " + text);
    }
}
