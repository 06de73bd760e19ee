package dev.jkvm.vmm.devices;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads fw_cfg's file directory the way a guest does, written from QEMU docs/specs/fw_cfg.rst
 * "File Directory": a big-endian 32-bit count, then per file a big-endian 32-bit size, a
 * big-endian 16-bit select key, 16 reserved bits and a 56-byte NUL-terminated name.
 */
final class FwCfgDirectory {
    record Entry(long size, int select, int reserved, String name) {}

    private FwCfgDirectory() {}

    static byte[] readItem(PortIo io, int selector, int length) {
        io.outw(0x510, selector);
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte) io.inb(0x511);
        return bytes;
    }

    private static long bigEndian(PortIo io, int bytes) {
        long value = 0;
        for (int i = 0; i < bytes; i++) value = value << 8 | io.inb(0x511);
        return value;
    }

    static List<Entry> read(PortIo io) {
        io.outw(0x510, 0x0019);
        long count = bigEndian(io, 4);
        List<Entry> entries = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            long size = bigEndian(io, 4);
            int select = (int) bigEndian(io, 2);
            int reserved = (int) bigEndian(io, 2);
            StringBuilder name = new StringBuilder();
            boolean ended = false;
            for (int c = 0; c < 56; c++) {
                int b = io.inb(0x511);
                if (b == 0) ended = true;
                else if (!ended) name.append((char) b);
            }
            entries.add(new Entry(size, select, reserved, name.toString()));
        }
        return entries;
    }
}
