package dev.jkvm.vmm.emulated.lockstep;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU TCG process stopped before its first instruction ({@code -S}) with its gdbstub on a
 * free loopback port, and the gdbstub connection to it: the independent CPU of the lockstep tests.
 * Single-stepping through the gdbstub runs with interrupts and timers held off (QEMU's default
 * {@code SSTEP_NOIRQ | SSTEP_NOTIMER}), so a step is exactly one instruction.
 *
 * <p>{@link #close} always kills the process; every wait is bounded.
 */
final class QemuTarget implements AutoCloseable {
    static final String BINARY = "/usr/bin/qemu-system-x86_64";
    /** How long any single gdbstub answer may take; QEMU answers a step in microseconds. */
    private static final int ANSWER_MILLIS = 30_000;
    private static final int CONNECT_ATTEMPTS = 200;

    private final Process process;
    private final Path workDir;
    final GdbRemote gdb;
    final RegisterLayout layout;
    private byte[] lastRaw;

    private QemuTarget(Process process, Path workDir, GdbRemote gdb) throws IOException {
        this.process = process;
        this.workDir = workDir;
        this.gdb = gdb;
        this.layout = RegisterLayout.read(gdb);
    }

    static boolean available() {
        return Files.isExecutable(Path.of(BINARY));
    }

    /**
     * Starts {@code qemu-system-x86_64 -accel tcg -M machine -m memory -S -gdb tcp:127.0.0.1:PORT
     * -kernel kernel} with COM1 to a file and isa-debug-exit on port 0xF4, and connects.
     */
    static QemuTarget start(Path kernel, String machine, String memory) throws IOException, InterruptedException {
        return start(kernel, machine, memory, "qemu64");
    }

    /** As {@link #start(Path, String, String)} with {@code -cpu model} ({@code max} enables TZCNT/LZCNT/POPCNT, BMI...). */
    static QemuTarget start(Path kernel, String machine, String memory, String cpuModel) throws IOException, InterruptedException {
        return start(kernel, machine, memory, cpuModel, 1);
    }

    /** As {@link #start(Path, String, String, String)} with {@code cpus} vCPUs (gdbstub threads p1.1, p1.2, ...). */
    static QemuTarget start(Path kernel, String machine, String memory, String cpuModel, int cpus)
            throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("lockstep-qemu");
        for (int attempt = 0; ; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            List<String> cmd = new ArrayList<>(List.of(BINARY, "-accel", "tcg", "-M", machine, "-m", memory,
                    "-cpu", cpuModel, "-smp", Integer.toString(cpus), "-display", "none", "-nodefaults", "-no-reboot", "-monitor", "none",
                    "-serial", "file:" + work.resolve("serial.txt"),
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-S", "-gdb", "tcp:127.0.0.1:" + port, "-kernel", kernel.toAbsolutePath().toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(work.resolve("qemu.log").toFile()).start();
            GdbRemote gdb = null;
            try {
                for (int i = 0; i < CONNECT_ATTEMPTS && gdb == null && p.isAlive(); i++) {
                    try {
                        gdb = GdbRemote.connect(port, ANSWER_MILLIS);
                    } catch (java.net.ConnectException e) {
                        Thread.sleep(25);
                    }
                }
                if (gdb == null) {
                    String log = Files.readString(work.resolve("qemu.log"));
                    kill(p);
                    if (attempt < 3 && log.contains("Address already in use")) continue;
                    throw new IOException("QEMU's gdbstub did not come up on port " + port + ": " + log.strip());
                }
                return new QemuTarget(p, work, gdb);
            } catch (IOException | RuntimeException | InterruptedException e) {
                if (gdb != null) gdb.close();
                kill(p);
                throw e;
            }
        }
    }

    /** The registers after the last stop. */
    X86State state() throws IOException {
        lastRaw = gdb.readRegisters();
        return X86State.fromGdb(layout, lastRaw);
    }

    /**
     * Writes general registers, RIP, RFLAGS and XMM (segments, control registers untouched). In
     * 64-bit mode with one {@code G}; otherwise register by register with {@code P}: QEMU 7.2's
     * gdbstub reads the FS/GS bases, CRs and EFER of a {@code G} packet as 32-bit values outside
     * 64-bit code while {@code g} sends them as 64-bit, so a {@code G} there loads garbage into CR0
     * and the rest (seen: CR0.PE cleared).
     */
    void setState(X86State s) throws IOException {
        byte[] raw = gdb.readRegisters();
        s.toGdb(layout, raw);
        if ((layout.get(raw, "efer") & 0x400) != 0 && (segments().attr()[1] & 1 << 13) != 0) {
            gdb.writeRegisters(raw);
            return;
        }
        for (String name : X86State.GPR_NAMES) writeField(raw, name);
        writeField(raw, "rip");
        writeField(raw, "eflags");
    }

    private void writeField(byte[] raw, String name) throws IOException {
        RegisterLayout.Field f = layout.field(name);
        gdb.writeRegister(f.number(), java.util.Arrays.copyOfRange(raw, f.offset(), f.offset() + f.bytes()));
    }

    /**
     * Writes one register of the {@code g} layout by name with {@code P} (e.g. "cr0", "efer", "fs"):
     * QEMU's gdbstub applies control registers through cpu_x86_update_cr0/cr4 and EFER through its
     * MSR path, so clearing CR0.PG and PE leaves long mode for real mode as a processor would.
     */
    void setRegister(String name, long value) throws IOException {
        byte[] raw = gdb.readRegisters();
        layout.set(raw, name, value);
        writeField(raw, name);
    }

    /**
     * Loads CS, SS, DS and ES selectors through {@code G}: in real mode QEMU's gdbstub then sets each
     * base to selector * 16 (its x86_cpu_gdb_load_seg), the way into flat real mode at 0.
     */
    void setSelectors(int cs, int ss, int ds, int es) throws IOException {
        byte[] raw = gdb.readRegisters();
        layout.set(raw, "cs", cs);
        layout.set(raw, "ss", ss);
        layout.set(raw, "ds", ds);
        layout.set(raw, "es", es);
        for (String name : new String[] {"cs", "ss", "ds", "es"}) writeField(raw, name);
    }

    /** The hidden segment state, GDTR/IDTR and CPL from {@code info registers}. */
    SegmentState segments() throws IOException {
        return SegmentState.parse(gdb.monitor("info registers"));
    }

    String infoRegisters() throws IOException {
        return gdb.monitor("info registers");
    }

    GdbRemote.StopReply step() throws IOException {
        return thread == null ? gdb.step() : gdb.step(thread);
    }

    /** The gdbstub thread {@link #selectCpu} chose, or null: {@link #step} steps every vCPU. */
    private String thread;

    /**
     * Makes vCPU {@code index} (0-based) the one {@link #state}, {@link #segments} and {@link #step}
     * address: {@code Hg} for the register packets, the monitor's {@code cpu} for
     * {@code info registers}, and steps only on its thread ({@code vCont;s:p1.N}) with the others stopped.
     */
    void selectCpu(int index) throws IOException {
        thread = "p1." + Integer.toHexString(index + 1);
        String r = gdb.command("Hg" + thread);
        if (!r.equals("OK")) throw new IOException("QEMU's gdbstub did not select thread " + thread + ": " + r);
        String m = gdb.monitor("cpu " + index);
        if (!m.isBlank()) throw new IOException("QEMU's monitor did not select CPU " + index + ": " + m.strip());
    }

    /** Runs until the instruction at {@code address} (a software breakpoint, removed again). */
    void runTo(long address) throws IOException {
        gdb.insertBreakpoint(address);
        GdbRemote.StopReply r = gdb.cont();
        gdb.removeBreakpoint(address);
        if (!r.stopped()) throw new IOException("QEMU ended before reaching 0x" + Long.toHexString(address) + ": " + r.raw());
        long rip = state().rip;
        if (rip != address) throw new IOException("QEMU stopped at 0x" + Long.toHexString(rip) + ", not at the breakpoint 0x" + Long.toHexString(address));
    }

    byte[] read(long virtual, int length) throws IOException {
        return gdb.readMemory(virtual, length);
    }

    void write(long virtual, byte[] data) throws IOException {
        gdb.writeMemory(virtual, data);
    }

    /** Guest-physical memory through the monitor's {@code pmemsave} (fast for whole RAM). */
    byte[] physical(long address, long length) throws IOException {
        Path f = workDir.resolve("pmem.bin");
        String out = gdb.monitor("pmemsave " + address + " " + length + " \"" + f + "\"");
        if (!out.isBlank()) throw new IOException("pmemsave failed: " + out.strip());
        byte[] b = Files.readAllBytes(f);
        Files.delete(f);
        if (b.length != length) throw new IOException("pmemsave wrote " + b.length + " bytes, asked " + length);
        return b;
    }

    /** What the guest wrote to COM1 so far. */
    String serial() throws IOException {
        Path f = workDir.resolve("serial.txt");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        try {
            gdb.close();
        } catch (IOException ignored) {
            // the process is killed next either way
        }
        kill(process);
        try (var files = Files.list(workDir)) {
            for (Path p : files.toList()) Files.deleteIfExists(p);
            Files.deleteIfExists(workDir);
        } catch (IOException ignored) {
            // a leftover temp directory is harmless
        }
    }

    private static void kill(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
