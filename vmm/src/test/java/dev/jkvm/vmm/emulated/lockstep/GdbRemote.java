package dev.jkvm.vmm.emulated.lockstep;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * A client of the GDB remote serial protocol (GDB manual, Appendix E "GDB Remote Serial Protocol"),
 * enough to drive QEMU's gdbstub: packets {@code $data#cc} with a modulo-256 checksum, acks until
 * {@code QStartNoAckMode}, run-length-encoded replies, stop replies, {@code g}/{@code G},
 * {@code m}/{@code M}, {@code s}, {@code c}, {@code vCont}, {@code Z0}/{@code z0}, {@code qXfer} and
 * {@code qRcmd}.
 *
 * <p>Every read is bounded by the socket timeout: a target that stops answering ends the test with
 * an exception naming the packet, never a hang.
 */
final class GdbRemote implements Closeable {
    private static final HexFormat HEX = HexFormat.of();

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private boolean acks = true;
    private int packetSize = 0x400;
    /** The last packet sent, for error messages. */
    private String last = "";

    private GdbRemote(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16);
        this.out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    }

    /** Connects to a gdbstub listening on 127.0.0.1:{@code port}; every later read waits at most {@code timeoutMillis}. */
    static GdbRemote connect(int port, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
        s.setSoTimeout(timeoutMillis);
        GdbRemote r = new GdbRemote(s);
        String features = r.command("qSupported:xmlRegisters=i386");
        for (String f : features.split(";")) {
            if (f.startsWith("PacketSize=")) r.packetSize = Integer.parseInt(f.substring(11), 16);
        }
        if ("OK".equals(r.command("QStartNoAckMode"))) r.acks = false;
        return r;
    }

    /** Sends {@code packet} and returns the reply's payload (decoded run lengths, no framing). */
    synchronized String command(String packet) throws IOException {
        try {
            send(packet);
            return receive();
        } catch (java.net.SocketException e) {
            // Broken pipe / reset: QEMU closed the connection (the guest exited or QEMU died).
            throw new TargetGoneException("gdbstub connection lost at " + describe() + ": " + e.getMessage());
        }
    }

    /** Sends one packet; in ack mode waits for the '+' (a '-' asks for a resend). */
    void send(String packet) throws IOException {
        last = packet;
        byte[] data = packet.getBytes(StandardCharsets.ISO_8859_1);
        int sum = 0;
        for (byte b : data) sum += b & 0xFF;
        for (int attempt = 0; ; attempt++) {
            out.write('$');
            out.write(data);
            out.write('#');
            out.write(String.format("%02x", sum & 0xFF).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (!acks) return;
            int c = readByte();
            if (c == '+') return;
            if (c != '-' || attempt > 3) throw new IOException("gdbstub did not acknowledge " + describe() + " (got " + c + ")");
        }
    }

    /** Receives one packet (skipping stray acks), checks its checksum, acks it in ack mode. */
    String receive() throws IOException {
        int c;
        do {
            c = readByte();
        } while (c != '$');
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int sum = 0;
        while ((c = readByte()) != '#') {
            body.write(c);
            sum += c;
        }
        int expected = Integer.parseInt("" + (char) readByte() + (char) readByte(), 16);
        if ((sum & 0xFF) != expected) {
            if (acks) {
                out.write('-');
                out.flush();
                return receive();
            }
            throw new IOException("bad checksum in the reply to " + describe());
        }
        if (acks) {
            out.write('+');
            out.flush();
        }
        return expandRunLengths(body.toByteArray());
    }

    /** Run-length encoding (GDB manual E.1): {@code X*n} repeats X another n-29 times. */
    private static String expandRunLengths(byte[] raw) {
        StringBuilder sb = new StringBuilder(raw.length);
        for (int i = 0; i < raw.length; i++) {
            char ch = (char) (raw[i] & 0xFF);
            if (ch == '*' && i + 1 < raw.length && sb.length() > 0) {
                int n = (raw[++i] & 0xFF) - 29;
                char prev = sb.charAt(sb.length() - 1);
                for (int k = 0; k < n; k++) sb.append(prev);
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    private int readByte() throws IOException {
        int c;
        try {
            c = in.read();
        } catch (SocketTimeoutException e) {
            throw new IOException("gdbstub did not answer " + describe() + " within " + socket.getSoTimeout() + " ms", e);
        }
        if (c < 0) throw new TargetGoneException("gdbstub closed the connection after " + describe());
        return c;
    }

    private String describe() {
        return "'" + (last.length() > 40 ? last.substring(0, 40) + "..." : last) + "'";
    }

    /** Raises an error unless the reply is {@code OK}. */
    void expectOk(String packet) throws IOException {
        String r = command(packet);
        if (!"OK".equals(r)) throw new IOException("gdbstub answered '" + r + "' to " + describe());
    }

    /** The stop reason ({@code ?}). */
    StopReply haltReason() throws IOException {
        return StopReply.parse(command("?"));
    }

    /** All registers of the {@code g} packet, target byte order (little endian). */
    byte[] readRegisters() throws IOException {
        String r = command("g");
        if (r.startsWith("E")) throw new IOException("g failed: " + r);
        return HEX.parseHex(r);
    }

    void writeRegisters(byte[] raw) throws IOException {
        expectOk("G" + HEX.formatHex(raw));
    }

    /** One register ({@code P n=value}), {@code value} in target byte order. */
    void writeRegister(int number, byte[] value) throws IOException {
        expectOk("P" + Integer.toHexString(number) + "=" + HEX.formatHex(value));
    }

    /** {@code length} bytes at {@code address} (virtual, or physical after {@link #physicalMemoryMode}), chunked to the packet size. */
    byte[] readMemory(long address, int length) throws IOException {
        byte[] result = new byte[length];
        int chunk = Math.max(16, (packetSize - 8) / 2);
        for (int done = 0; done < length; ) {
            int n = Math.min(chunk, length - done);
            String r = command("m" + Long.toHexString(address + done) + "," + Integer.toHexString(n));
            if (r.startsWith("E") && r.length() == 3) throw new IOException("cannot read " + n + " bytes at 0x" + Long.toHexString(address + done) + ": " + r);
            byte[] part = HEX.parseHex(r);
            if (part.length == 0) throw new IOException("empty read at 0x" + Long.toHexString(address + done));
            System.arraycopy(part, 0, result, done, part.length);
            done += part.length;
        }
        return result;
    }

    void writeMemory(long address, byte[] data) throws IOException {
        int chunk = Math.max(16, (packetSize - 40) / 2);
        for (int done = 0; done < data.length; done += chunk) {
            int n = Math.min(chunk, data.length - done);
            expectOk("M" + Long.toHexString(address + done) + "," + Integer.toHexString(n) + ":"
                    + HEX.formatHex(data, done, done + n));
        }
    }

    /**
     * QEMU's {@code Qqemu.PhyMemMode}: {@code m}/{@code M} take physical addresses while on
     * (QEMU docs "GDB usage", gdbstub.c). Used to read what lies behind a device address.
     */
    void physicalMemoryMode(boolean on) throws IOException {
        expectOk("Qqemu.PhyMemMode:" + (on ? 1 : 0));
    }

    /** One instruction ({@code vCont;s}, falling back to {@code s}). */
    StopReply step() throws IOException {
        return StopReply.parse(command("vCont;s"));
    }

    /** One instruction on thread {@code thread} (e.g. {@code p1.2}) only; the other vCPUs stay stopped. */
    StopReply step(String thread) throws IOException {
        return StopReply.parse(command("vCont;s:" + thread));
    }

    StopReply cont() throws IOException {
        return StopReply.parse(command("vCont;c"));
    }

    void insertBreakpoint(long address) throws IOException {
        expectOk("Z0," + Long.toHexString(address) + ",1");
    }

    void removeBreakpoint(long address) throws IOException {
        expectOk("z0," + Long.toHexString(address) + ",1");
    }

    /** A {@code qXfer:features:read} annex ({@code target.xml} and what it includes), read in chunks. */
    String readFeature(String annex) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            String r = command("qXfer:features:read:" + annex + ":" + Integer.toHexString(sb.length()) + ","
                    + Integer.toHexString(packetSize - 16));
            if (r.isEmpty() || r.charAt(0) == 'E') throw new IOException("qXfer " + annex + ": '" + r + "'");
            sb.append(r, 1, r.length());
            if (r.charAt(0) == 'l') return sb.toString();
        }
    }

    /** A monitor command ({@code qRcmd}); returns its console output. */
    String monitor(String commandLine) throws IOException {
        send("qRcmd," + HEX.formatHex(commandLine.getBytes(StandardCharsets.US_ASCII)));
        StringBuilder output = new StringBuilder();
        while (true) {
            String r = receive();
            if (r.equals("OK")) return output.toString();
            if (r.startsWith("O")) {
                output.append(new String(HEX.parseHex(r.substring(1)), StandardCharsets.ISO_8859_1));
            } else if (r.isEmpty() || r.startsWith("E")) {
                throw new IOException("monitor '" + commandLine + "' failed: '" + r + "'");
            } else {
                return output.append(r).toString();
            }
        }
    }

    /** Ctrl-C: asks a running target to stop; its stop reply follows. */
    StopReply interrupt() throws IOException {
        out.write(3);
        out.flush();
        return StopReply.parse(receive());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The gdbstub's connection ended: the guest left QEMU (isa-debug-exit, shutdown) or QEMU died. */
    static final class TargetGoneException extends IOException {
        TargetGoneException(String message) {
            super(message);
        }
    }

    /** A stop reply: {@code S/T} (stopped with a signal), {@code W} (exited), {@code X} (terminated). */
    record StopReply(char kind, int code, String raw) {
        static StopReply parse(String r) throws IOException {
            if (r.isEmpty()) throw new IOException("empty stop reply (packet not supported)");
            char k = r.charAt(0);
            if ("STWX".indexOf(k) < 0) throw new IOException("not a stop reply: '" + r + "'");
            int end = Math.min(r.length(), 3);
            int code = 0;
            try {
                code = Integer.parseInt(r.substring(1, end).replaceAll("[^0-9a-fA-F]", ""), 16);
            } catch (NumberFormatException ignored) {
                // W/X may carry ";process:..." only
            }
            return new StopReply(k, code, r);
        }

        boolean stopped() {
            return kind == 'S' || kind == 'T';
        }
    }
}
