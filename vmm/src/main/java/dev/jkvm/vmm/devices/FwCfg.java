package dev.jkvm.vmm.devices;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device, traditional I/O-port interface only (QEMU
 * docs/specs/fw_cfg.rst). A guest writes a 16-bit key to the selector port and then reads the
 * item byte by byte from the data port. The DMA interface (port 0x514) is not implemented: the
 * feature bitmap says so, and the port stays unregistered, reading all ones.
 */
public final class FwCfg implements PioDevice {
    /** fw_cfg.rst "Register Locations", x86: selector at 0x510 (16-bit), data at 0x511 (8-bit). */
    public static final int SELECTOR_PORT = 0x510;
    public static final int DATA_PORT = 0x511;
    public static final int PORT_COUNT = 2;

    public static final int FW_CFG_SIGNATURE = 0x0000;
    public static final int FW_CFG_ID = 0x0001;
    public static final int FW_CFG_RAM_SIZE = 0x0003;
    public static final int FW_CFG_NB_CPUS = 0x0005;
    public static final int FW_CFG_MAX_CPUS = 0x000F;
    public static final int FW_CFG_FILE_DIR = 0x0019;
    public static final int FW_CFG_FILE_FIRST = 0x0020;

    /** fw_cfg.rst "Selector (Control) Register": bit 14 requests write access, not a different item. */
    private static final int WRITE_CHANNEL = 0x4000;
    /** The key space below the write and arch-local bits: files end where the keys do. */
    private static final int ENTRY_LIMIT = 0x4000;
    /** fw_cfg.rst "File Directory": {@code char name[56]}, NUL-terminated. */
    public static final int MAX_FILE_NAME_LENGTH = 55;
    private static final int DIRECTORY_ENTRY_SIZE = 4 + 2 + 2 + 56;
    /** fw_cfg.rst FW_CFG_ID: bit 0 = traditional interface, bit 1 = DMA (absent here). */
    private static final int FEATURE_TRADITIONAL_INTERFACE = 1;

    private final Map<Integer, byte[]> items = new HashMap<>();
    private final TreeMap<String, byte[]> files = new TreeMap<>();
    private byte[] selected;
    private int offset;

    public FwCfg(int cpuCount, long ramSize) {
        items.put(FW_CFG_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(FW_CFG_ID, littleEndian(4, FEATURE_TRADITIONAL_INTERFACE));
        items.put(FW_CFG_RAM_SIZE, littleEndian(8, ramSize));
        items.put(FW_CFG_NB_CPUS, littleEndian(2, cpuCount));
        items.put(FW_CFG_MAX_CPUS, littleEndian(2, cpuCount));
        rebuildFileItems();
    }

    /**
     * Publishes a named blob, as QEMU's {@code -fw_cfg name=...,file=...} does. Files are listed in
     * name order and take keys from 0x0020 on in that order, as QEMU assigns them.
     */
    public synchronized void addFile(String name, byte[] contents) {
        int length = name.getBytes(StandardCharsets.UTF_8).length;
        if (length == 0 || length > MAX_FILE_NAME_LENGTH) {
            throw new IllegalArgumentException("fw_cfg file name \"" + name + "\" is " + length
                    + " bytes; use 1 to " + MAX_FILE_NAME_LENGTH + " bytes (the directory holds 56 with the NUL)");
        }
        if (files.containsKey(name)) {
            throw new IllegalArgumentException("fw_cfg file \"" + name + "\" is already present; add each name once");
        }
        if (FW_CFG_FILE_FIRST + files.size() >= ENTRY_LIMIT) {
            throw new IllegalArgumentException("fw_cfg has no key left for \"" + name + "\"; publish fewer files");
        }
        files.put(name, contents.clone());
        rebuildFileItems();
    }

    /** The contents of the item a guest gets for {@code selector}; empty when none is there. */
    public synchronized byte[] item(int selector) {
        byte[] contents = items.get(selector & ~WRITE_CHANNEL & 0xFFFF);
        return contents == null ? new byte[0] : contents.clone();
    }

    /**
     * One-byte reads at either port stream the selected item, as QEMU 7.2's combined region does;
     * wider reads at the data port deliver one item byte with all ones above it (the bytes past
     * the device), wider reads at the selector return 0 and consume nothing.
     */
    @Override
    public synchronized int read(int port, int size) {
        if (size == 1) return nextDataByte();
        if (port == DATA_PORT) return nextDataByte() | (size == 4 ? 0xFFFF_FF00 : 0xFF00);
        return 0;
    }

    /** fw_cfg.rst "Data Register": writes to the data port are ignored since QEMU 2.4. */
    @Override
    public synchronized void write(int port, int size, int value) {
        if (port == SELECTOR_PORT && size == 2) select(value & 0xFFFF);
    }

    private void select(int key) {
        selected = items.get(key & ~WRITE_CHANNEL);
        offset = 0;
    }

    /** fw_cfg.rst "Data Register": the offset advances per byte; reads past the end return 0. */
    private int nextDataByte() {
        if (selected == null || offset >= selected.length) return 0;
        return selected[offset++] & 0xFF;
    }

    private void rebuildFileItems() {
        items.keySet().removeIf(key -> key >= FW_CFG_FILE_FIRST && key < ENTRY_LIMIT);
        // fw_cfg.rst "File Directory": be32 count, then per file be32 size, be16 select,
        // be16 reserved, char name[56].
        ByteBuffer directory = ByteBuffer.allocate(4 + files.size() * DIRECTORY_ENTRY_SIZE).order(ByteOrder.BIG_ENDIAN);
        directory.putInt(files.size());
        int key = FW_CFG_FILE_FIRST;
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            byte[] name = new byte[56];
            byte[] encoded = file.getKey().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(encoded, 0, name, 0, encoded.length);
            directory.putInt(file.getValue().length).putShort((short) key).putShort((short) 0).put(name);
            items.put(key, file.getValue());
            key++;
        }
        items.put(FW_CFG_FILE_DIR, directory.array());
    }

    private static byte[] littleEndian(int width, long value) {
        byte[] bytes = new byte[width];
        for (int i = 0; i < width; i++) bytes[i] = (byte) (value >>> (8 * i));
        return bytes;
    }
}
