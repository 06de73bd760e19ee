package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Our fw_cfg against QEMU 7.2's, DMA switched off there ({@code fw_cfg_io.dma_enabled=off}) as it
 * is absent here. QEMU publishes files of its own, so for the directory only our test file's
 * entry is compared; the shared directory parser is validated by decoding QEMU's directory.
 */
class FwCfgQemuOracleTest {
    private static final String FILE = "opt/dev.jkvm/oracle";
    private static final String CONTENTS = "hello fw_cfg";

    private static List<String> probe(PortIo io) {
        List<String> seen = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        seen.add("signature " + hex.formatHex(FwCfgDirectory.readItem(io, 0x0000, 6)));
        seen.add("id " + hex.formatHex(FwCfgDirectory.readItem(io, 0x0001, 4)));
        seen.add("ram " + hex.formatHex(FwCfgDirectory.readItem(io, 0x0003, 8)));
        seen.add("cpus " + hex.formatHex(FwCfgDirectory.readItem(io, 0x0005, 2)));
        seen.add("max cpus " + hex.formatHex(FwCfgDirectory.readItem(io, 0x000F, 2)));
        seen.add("write channel " + hex.formatHex(FwCfgDirectory.readItem(io, 0x4000, 1)));
        seen.add("unknown " + hex.formatHex(FwCfgDirectory.readItem(io, 0x3FFF, 2)));
        io.outw(0x510, 0x0000);
        seen.add("wide " + Integer.toHexString(io.in(0x510, 2)) + " " + Integer.toHexString(io.in(0x511, 2))
                + " " + Integer.toHexString(io.in(0x510, 4)) + " " + Integer.toHexString(io.in(0x511, 4))
                + " " + Integer.toHexString(io.inb(0x510)));
        for (FwCfgDirectory.Entry entry : FwCfgDirectory.read(io)) {
            if (entry.reserved() != 0 || entry.select() < 0x20) seen.add("malformed " + entry);
            if (entry.name().equals(FILE)) {
                byte[] contents = FwCfgDirectory.readItem(io, entry.select(), (int) entry.size() + 1);
                seen.add("file size " + entry.size() + " " + new String(contents, StandardCharsets.US_ASCII));
            }
        }
        return seen;
    }

    @Test
    void itemsMatchQemu() throws InterruptedException {
        assumeTrue(QemuQtest.available(), "qemu-system-x86_64 is not installed");
        List<String> expected;
        try (QemuQtest qemu = new QemuQtest("-m", "3G", "-smp", "3", "-global", "fw_cfg_io.dma_enabled=off",
                "-fw_cfg", "name=" + FILE + ",string=" + CONTENTS)) {
            expected = probe(qemu);
        }
        FwCfg fwCfg = new FwCfg(3, 3L << 30);
        fwCfg.addFile(FILE, CONTENTS.getBytes(StandardCharsets.US_ASCII));
        PortIoBus bus = new PortIoBus();
        bus.register(0x510, 2, fwCfg);
        assertEquals(String.join("\n", expected), String.join("\n", probe(PortIo.of(bus))));
    }
}
