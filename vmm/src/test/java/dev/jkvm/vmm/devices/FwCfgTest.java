package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** fw_cfg through the port bus; expected values from QEMU docs/specs/fw_cfg.rst. */
class FwCfgTest {
    private static final long EIGHT_GIB = 8L << 30;
    private final FwCfg fwCfg = new FwCfg(3, EIGHT_GIB);
    private final PortIoBus bus = new PortIoBus();
    private final PortIo io = PortIo.of(bus);

    FwCfgTest() {
        bus.register(0x510, 2, fwCfg);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    @Test
    void signatureIsQemu() {
        // fw_cfg.rst "Signature (Key 0x0000)": reading it returns "QEMU".
        assertEquals("QEMU", new String(FwCfgDirectory.readItem(io, 0x0000, 4), StandardCharsets.US_ASCII));
    }

    @Test
    void readsPastTheEndReturnZero() {
        assertArrayEquals(bytes('Q', 'E', 'M', 'U', 0, 0, 0), FwCfgDirectory.readItem(io, 0x0000, 7));
    }

    @Test
    void idAdvertisesTheTraditionalInterfaceOnly() {
        // fw_cfg.rst "Revision / feature bitmap (Key 0x0001)": 32-bit LE, bit 0 traditional, bit 1 DMA.
        assertArrayEquals(bytes(1, 0, 0, 0), FwCfgDirectory.readItem(io, 0x0001, 4));
    }

    @Test
    void cpuCountsAreLittleEndian16Bit() {
        assertArrayEquals(bytes(3, 0), FwCfgDirectory.readItem(io, 0x0005, 2));
        assertArrayEquals(bytes(3, 0), FwCfgDirectory.readItem(io, 0x000F, 2));
    }

    @Test
    void ramSizeIsLittleEndian64Bit() {
        assertArrayEquals(bytes(0, 0, 0, 0, 2, 0, 0, 0), FwCfgDirectory.readItem(io, 0x0003, 8));
    }

    @Test
    void selectingAgainRestartsAtOffsetZero() {
        FwCfgDirectory.readItem(io, 0x0000, 2);
        assertEquals('Q', FwCfgDirectory.readItem(io, 0x0000, 1)[0]);
    }

    @Test
    void writeChannelBitSelectsTheSameItemAndDataWritesAreIgnored() {
        // fw_cfg.rst: bit 14 of the key asks for write access; data-port writes are no-ops.
        io.outw(0x510, 0x4000);
        io.outb(0x511, 'X');
        assertEquals('Q', io.inb(0x511));
    }

    @Test
    void unknownKeysReadAsZero() {
        assertArrayEquals(bytes(0, 0), FwCfgDirectory.readItem(io, 0x7FFF, 2));
        assertArrayEquals(new byte[0], fwCfg.item(0x7FFF));
    }

    @Test
    void emptyDirectoryHasCountZero() {
        assertArrayEquals(bytes(0, 0, 0, 0), FwCfgDirectory.readItem(io, 0x0019, 4));
    }

    @Test
    void fileDirectoryIsBigEndianAndSortedByName() {
        fwCfg.addFile("opt/b", "bee".getBytes(StandardCharsets.US_ASCII));
        fwCfg.addFile("opt/a", new byte[0x1234]);
        // Hand-decoded layout of the first bytes: count 2, then size 0x1234, key 0x0020, reserved 0, "opt/a".
        assertArrayEquals(bytes(0, 0, 0, 2, 0, 0, 0x12, 0x34, 0x00, 0x20, 0, 0, 'o', 'p', 't', '/', 'a', 0),
                FwCfgDirectory.readItem(io, 0x0019, 18));
        assertEquals(List.of(new FwCfgDirectory.Entry(0x1234, 0x20, 0, "opt/a"),
                        new FwCfgDirectory.Entry(3, 0x21, 0, "opt/b")),
                FwCfgDirectory.read(io));
        assertEquals(4 + 2 * 64, fwCfg.item(0x0019).length, "each entry is 4 + 2 + 2 + 56 bytes");
        assertEquals("bee", new String(FwCfgDirectory.readItem(io, 0x21, 3), StandardCharsets.US_ASCII));
        assertArrayEquals(bytes('b', 'e', 'e', 0), FwCfgDirectory.readItem(io, 0x21, 4));
    }

    @Test
    void fileNamesLongerThan55BytesAreRejected() {
        fwCfg.addFile("n".repeat(55), new byte[1]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fwCfg.addFile("m".repeat(56), new byte[1]));
        assertTrue(e.getMessage().contains("56 bytes") && e.getMessage().contains("1 to 55"), e.getMessage());
        assertEquals(1, FwCfgDirectory.read(io).size());
    }

    @Test
    void duplicateFileNamesAreRejected() {
        fwCfg.addFile("etc/x", new byte[1]);
        assertThrows(IllegalArgumentException.class, () -> fwCfg.addFile("etc/x", new byte[2]));
    }

    @Test
    void fileContentsAreCopiedWhenAdded() {
        byte[] contents = {1, 2};
        fwCfg.addFile("etc/copy", contents);
        contents[0] = 9;
        assertArrayEquals(bytes(1, 2), fwCfg.item(0x20));
    }

    @Test
    void wideAccessesBehaveAsOnQemu72() {
        io.outw(0x510, 0x0000);
        assertEquals(0, bus.read(0x510, 2), "a 16-bit read of the selector returns 0 and consumes nothing");
        assertEquals(0xFF00 | 'Q', bus.read(0x511, 2), "one item byte, the byte past the device all ones");
        assertEquals('E', io.inb(0x510), "a byte read at the selector port streams data too");
        bus.write(0x510, 4, 0x0001);
        assertEquals('M', io.inb(0x511), "a 32-bit selector write is ignored");
    }
}
