package dev.jkvm.vmm.devices;

import java.io.OutputStream;
import java.time.Clock;
import java.util.function.IntConsumer;

/**
 * The PC legacy devices a kernel built for QEMU's {@code -kernel} path probes, at QEMU's ports:
 * COM1 at 0x3F8 (IRQ 4), isa-debug-exit at 0xF4, fw_cfg at 0x510, and the RTC/CMOS at 0x70.
 * The VM wires them with one call and keeps the record to read statistics afterwards.
 */
public record LegacyDevices(Serial16550 serial, DebugExit debugExit, FwCfg fwCfg, CmosRtc rtc) {

    public static LegacyDevices install(PortIoBus bus, InterruptLines irq, OutputStream serialOut,
                                        IntConsumer onExitStatus, int cpuCount, long ramSize, Clock clock) {
        LegacyDevices devices = new LegacyDevices(
                new Serial16550(irq, Serial16550.COM1_GSI, serialOut),
                new DebugExit(onExitStatus),
                new FwCfg(cpuCount, ramSize),
                new CmosRtc(ramSize, clock));
        bus.register(Serial16550.COM1_BASE, Serial16550.PORT_COUNT, devices.serial());
        bus.register(DebugExit.PORT, DebugExit.PORT_COUNT, devices.debugExit());
        bus.register(FwCfg.SELECTOR_PORT, FwCfg.PORT_COUNT, devices.fwCfg());
        bus.register(CmosRtc.INDEX_PORT, CmosRtc.PORT_COUNT, devices.rtc());
        return devices;
    }
}
